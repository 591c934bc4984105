import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Where a card's burn is, for progress lines.
public struct BurnProgress: Sendable {
  public enum Phase: String, Sendable { case write, verify }
  public var device: String
  public var phase: Phase
  /// 0…1: of the source file read (write) or of the written bytes read back (verify).
  public var fraction: Double
  /// Bytes written to (or read back from) the card in this phase.
  public var bytes: UInt64
  public var seconds: Double
}

/// What one burn did.
public struct BurnResult: Sendable, Codable {
  public var device: String
  /// The decompressed image's size, and how much of it reached the card.
  public var imageSize: UInt64
  public var written: UInt64
  public var writeSeconds: Double
  /// nil with --no-verify.
  public var verifySeconds: Double?
  /// SHA-256 of a compressed image file as read (the digest image sites publish). nil for a raw
  /// image: it is compared with the card byte for byte, and hashing all of it (holes included)
  /// would cost more than the copy (`sha256sum` gives it).
  public var sha256: String?
  /// The image's partitions (the boot and root partitions are found here for the identity).
  public var partitions: [MBR.Partition]
}

/// Writes an image to a whole disk: streamed (decompressed on the way), only the blocks the
/// image's filesystems use (AllocationMap), in large aligned O_DIRECT writes, then read back
/// and compared chunk by chunk: with the image file itself when it is raw (no hashing at all),
/// else with a SHA-256 per chunk taken as it was written. A failure after the first write leaves the card unusable on
/// purpose: its first MiB (the partition table and the start of the boot partition) is zeroed,
/// so that no half-written card ever boots or looks done.
public enum CardBurner {
  /// Bytes per read from the image and most per write.
  public static let chunkSize = 4 << 20

  /// O_DIRECT, which Glibc's module does not export (it needs _GNU_SOURCE): the value differs by
  /// architecture.
  #if arch(arm64) || arch(arm)
    static let directIO: Int32 = 0o200000
  #else
    static let directIO: Int32 = 0o40000
  #endif

  struct Chunk {
    var offset: UInt64
    var pieces: [Range<UInt64>]
    /// nil for a raw image, whose card is compared with the file itself.
    var digest: SHA256.Digest?
  }

  public static func burn(
    image: String, device: CardDevice, verify: Bool, progress: (@Sendable (BurnProgress) -> Void)? = nil
  ) throws(PiSwarmError) -> BurnResult {
    let compression = try ImageImporter.compression(of: image)
    let sourceSize = UInt64((try? FileManager.default.attributesOfItem(atPath: image)[.size] as? NSNumber)??.uint64Value ?? 0)
    let raw = compression == .none
    let stream = try ImageStream(path: image, compression: compression, hashesSource: !raw)
    defer { stream.finish(kill: true) }
    let fd = open(device.path, O_RDWR | Self.directIO | O_EXCL | O_CLOEXEC)
    guard fd >= 0 else {
      throw PiSwarmError(
        .system, "cannot open \(device.path) for writing: \(String(cString: strerror(errno)))",
        advice: errno == EBUSY ? "something holds it (a mount, a device-mapper or md device): release it first" : nil)
    }
    defer { close(fd) }
    // The image's unaligned tail (if any) goes through the page cache.
    let tailFD = open(device.path, O_RDWR | O_CLOEXEC)
    guard tailFD >= 0 else { throw PiSwarmError(.system, "cannot open \(device.path): \(String(cString: strerror(errno)))") }
    defer { close(tailFD) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
    defer { buffer.deallocate() }

    let started = Date()
    var chunks: [Chunk] = []
    var offset: UInt64 = 0
    var written: UInt64 = 0
    var map: AllocationMap?
    var partitions: [MBR.Partition] = []
    var lastReport = Date.distantPast
    var wroteAnything = false
    do throws(PiSwarmError) {
      while true {
        let count = try stream.readFully(into: buffer)
        if count == 0 { break }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        if map == nil {
          // Checked before the first write: bad input changes nothing on the card.
          partitions = try MBR.parse(Array(bytes.prefix(512)), name: image)
          let needed = partitions.map(\.end).max() ?? UInt64(count)
          let rawSize = compression == .none ? sourceSize : 0
          if max(needed, rawSize) > device.size {
            throw PiSwarmError(
              .invalidInput,
              "\(image) needs \(ProgressLine.gibibytes(max(needed, rawSize))) but \(device.path) holds \(ProgressLine.gibibytes(device.size))",
              advice: "use a larger card")
          }
          map = AllocationMap(partitions: partitions)
        }
        // Mutated in place: a copy would copy its bitmaps on every chunk.
        map?.observe(offset: offset, bytes: bytes)
        let pieces = map?.used(offset..<(offset + UInt64(count))) ?? []
        var hasher = SHA256()
        for piece in pieces {
          let slice = UnsafeRawBufferPointer(rebasing: bytes[Int(piece.lowerBound - offset)..<Int(piece.upperBound - offset)])
          if !raw { hasher.update(bufferPointer: slice) }
          if piece.upperBound > device.size {
            throw PiSwarmError(
              .invalidInput, "\(image) is larger than \(device.path) (\(device.size) bytes)", advice: "use a larger card")
          }
          wroteAnything = true
          try write(slice, at: piece.lowerBound, fd: fd, tailFD: tailFD, device: device.path)
          written += UInt64(slice.count)
        }
        chunks.append(Chunk(offset: offset, pieces: pieces, digest: raw ? nil : hasher.finalize()))
        offset += UInt64(count)
        if let progress, Date().timeIntervalSince(lastReport) > 0.5 {
          lastReport = Date()
          progress(
            BurnProgress(
              device: device.name, phase: .write,
              fraction: sourceSize > 0 ? Double(stream.sourcePosition) / Double(sourceSize) : 0, bytes: written,
              seconds: Date().timeIntervalSince(started)))
        }
      }
      guard map != nil else {
        throw PiSwarmError(.invalidInput, "\(image) is empty", advice: "check that the download is complete")
      }
      guard fsync(fd) == 0, fsync(tailFD) == 0 else {
        throw PiSwarmError(
          .system, "\(device.path) failed while flushing what was written: \(String(cString: strerror(errno)))",
          advice: "the card may be failing: try another")
      }
      let (status, stderr) = stream.finish()
      if status != 0 {
        throw PiSwarmError(
          .invalidInput, "\(image) cannot be decompressed (\(compression.rawValue) exited with status \(status))",
          advice: "check the download (sha256)", cause: stderr)
      }
    } catch {
      if wroteAnything { try failed(error, fd: fd, device: device.path) }
      throw error
    }
    let writeSeconds = Date().timeIntervalSince(started)
    var verifySeconds: Double?
    if verify {
      let verifyStart = Date()
      do throws(PiSwarmError) {
        try Self.verify(
          chunks, card: Card(fd: fd, tailFD: tailFD, path: device.path), image: raw ? image : nil, buffer: buffer
        ) { read in
          if let progress, Date().timeIntervalSince(lastReport) > 0.5 {
            lastReport = Date()
            progress(
              BurnProgress(
                device: device.name, phase: .verify, fraction: written > 0 ? Double(read) / Double(written) : 1, bytes: read,
                seconds: Date().timeIntervalSince(verifyStart)))
          }
        }
      } catch { try failed(error, fd: fd, device: device.path) }
      verifySeconds = Date().timeIntervalSince(verifyStart)
    }
    return BurnResult(
      device: device.path, imageSize: offset, written: written, writeSeconds: writeSeconds, verifySeconds: verifySeconds,
      sha256: raw ? nil : stream.sourceDigest, partitions: partitions)
  }

  /// An open card: the O_DIRECT descriptor, the cached one for unaligned tails, its path.
  struct Card {
    var fd: Int32
    var tailFD: Int32
    var path: String
  }

  /// Reads back every chunk's pieces from `card` and compares them: with the raw `image` file
  /// at the same offsets when given (naming the first byte that differs), else with the
  /// chunk's digest. `buffer` holds at least a chunk; `progress` gets the bytes read so far.
  static func verify(
    _ chunks: [Chunk], card: Card, image: String?, buffer: UnsafeMutableRawBufferPointer, progress: (UInt64) -> Void
  ) throws(PiSwarmError) {
    let original = image.map { open($0, O_RDONLY | O_CLOEXEC) } ?? -1
    if let image, original < 0 {
      throw PiSwarmError(.system, "cannot open \(image) again to verify: \(String(cString: strerror(errno)))")
    }
    defer { if original >= 0 { close(original) } }
    let expected = UnsafeMutableRawBufferPointer.allocate(byteCount: image == nil ? 0 : buffer.count, alignment: 4096)
    defer { expected.deallocate() }
    var read: UInt64 = 0
    for chunk in chunks {
      var hasher = SHA256()
      for piece in chunk.pieces {
        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(piece.count)])
        try readBack(into: slice, at: piece.lowerBound, fd: card.fd, tailFD: card.tailFD, device: card.path)
        if let image {
          let wanted = UnsafeMutableRawBufferPointer(rebasing: expected[0..<Int(piece.count)])
          try readImage(into: wanted, at: piece.lowerBound, fd: original, image: image)
          if let at = firstDifference(UnsafeRawBufferPointer(slice), UnsafeRawBufferPointer(wanted)) {
            let offset = piece.lowerBound + UInt64(at)
            throw mismatch(device: card.path, "at offset \(offset) (\(ProgressLine.mebibytes(offset)))")
          }
        } else {
          hasher.update(bufferPointer: UnsafeRawBufferPointer(slice))
        }
        read += UInt64(piece.count)
      }
      if let digest = chunk.digest, hasher.finalize() != digest {
        throw mismatch(device: card.path, "in the 4 MiB at offset \(chunk.offset)")
      }
      progress(read)
    }
  }

  /// The card does not hold what was written `place`.
  static func mismatch(device: String, _ place: String) -> PiSwarmError {
    PiSwarmError(
      .system, "\(device) does not hold what was written \(place)",
      advice: "the card is failing or fake (smaller than it says): use another")
  }

  /// The index of the first byte where `a` and `b` (of equal length) differ; nil when equal.
  static func firstDifference(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int? {
    guard a.count == b.count else { return min(a.count, b.count) }
    guard let pa = a.baseAddress, let pb = b.baseAddress, memcmp(pa, pb, a.count) != 0 else { return nil }
    // Only on a mismatch: find where, a byte at a time.
    return (0..<a.count).first { a[$0] != b[$0] }
  }

  /// pread(2) of the image file until `bytes` is full.
  static func readImage(
    into bytes: UnsafeMutableRawBufferPointer, at offset: UInt64, fd: Int32, image: String
  ) throws(PiSwarmError) {
    var done = 0
    while done < bytes.count {
      let count = pread(fd, bytes.baseAddress?.advanced(by: done), bytes.count - done, off_t(offset) + off_t(done))
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else {
        throw PiSwarmError(
          .system,
          "cannot read \(image) again at offset \(offset + UInt64(done)) to verify: "
            + (count == 0 ? "it is shorter than when it was written" : String(cString: strerror(errno))),
          advice: "do not change the image while it is burned")
      }
      done += count
    }
  }

  /// pwrite(2) until done: whole 4 KiB units by O_DIRECT, an unaligned tail through the cache.
  static func write(
    _ bytes: UnsafeRawBufferPointer, at offset: UInt64, fd: Int32, tailFD: Int32, device: String
  )
    throws(PiSwarmError)
  {
    let (done, failure) = transfer(bytes.count, at: offset, fd: fd, tailFD: tailFD) { fd, done, length, at in
      pwrite(fd, bytes.baseAddress.map { UnsafeRawPointer($0).advanced(by: done) }, length, at)
    }
    guard let failure else { return }
    let reason = failure == 0 ? "no space left (the card ended)" : String(cString: strerror(failure))
    throw PiSwarmError(
      .system,
      "\(device) failed to write at offset \(offset + UInt64(done)) (\(ProgressLine.mebibytes(offset + UInt64(done)))): \(reason)",
      advice: "the card is failing or smaller than it says: use another")
  }

  static func readBack(
    into bytes: UnsafeMutableRawBufferPointer, at offset: UInt64, fd: Int32, tailFD: Int32, device: String
  )
    throws(PiSwarmError)
  {
    let (done, failure) = transfer(bytes.count, at: offset, fd: fd, tailFD: tailFD) { fd, done, length, at in
      pread(fd, bytes.baseAddress?.advanced(by: done), length, at)
    }
    guard let failure else { return }
    throw PiSwarmError(
      .system,
      "\(device) failed to read back at offset \(offset + UInt64(done)): \(failure == 0 ? "end of device" : String(cString: strerror(failure)))",
      advice: "the card is failing: use another")
  }

  /// Moves `count` bytes at `offset` with `io(fd, done, length, position)` (pread or pwrite):
  /// whole 4 KiB units on the O_DIRECT descriptor, the unaligned tail on the cached one. Returns
  /// how far it got and, when it stopped early, errno (0: the device ended).
  static func transfer(
    _ count: Int, at offset: UInt64, fd: Int32, tailFD: Int32, _ io: (Int32, Int, Int, off_t) -> Int
  ) -> (done: Int, failure: Int32?) {
    let aligned = count / 4096 * 4096
    var done = 0
    while done < count {
      let direct = done < aligned
      let end = direct ? aligned : count
      let moved = io(direct ? fd : tailFD, done, end - done, off_t(offset) + off_t(done))
      if moved < 0 && errno == EINTR { continue }
      guard moved > 0 else { return (done, moved == 0 ? 0 : errno) }
      done += moved
    }
    return (done, nil)
  }

  /// Zeroes the card's first MiB and rethrows `error` saying so.
  static func failed(_ error: PiSwarmError, fd: Int32, device: String) throws(PiSwarmError) -> Never {
    let zeroed = zeroFirstMiB(fd: fd)
    throw PiSwarmError(
      error.code,
      error.message
        + (zeroed
          ? "; the card is marked unusable (its first MiB zeroed)" : "; zeroing its first MiB failed too: do not use this card"),
      advice: error.advice, cause: error.cause)
  }

  /// Overwrites the first MiB with zeros (O_DIRECT) and flushes; false when that fails.
  static func zeroFirstMiB(fd: Int32) -> Bool {
    let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    defer { zeros.deallocate() }
    zeros.initializeMemory(as: UInt8.self, repeating: 0)
    return pwrite(fd, zeros.baseAddress, zeros.count, 0) == zeros.count && fsync(fd) == 0
  }
}
