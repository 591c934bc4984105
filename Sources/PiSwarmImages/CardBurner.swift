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
  /// SHA-256 of the image file as read.
  public var sha256: String
  /// The image's partitions (the boot and root partitions are found here for the identity).
  public var partitions: [MBR.Partition]
}

/// Writes an image to a whole disk: streamed (decompressed on the way), only the blocks the
/// image's filesystems use (AllocationMap), in large aligned O_DIRECT writes, then read back
/// and compared chunk by chunk. A failure after the first write leaves the card unusable on
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
    var digest: SHA256.Digest
  }

  public static func burn(
    image: String, device: CardDevice, verify: Bool, progress: (@Sendable (BurnProgress) -> Void)? = nil
  ) throws(PiSwarmError) -> BurnResult {
    let compression = try ImageImporter.compression(of: image)
    let sourceSize = UInt64((try? FileManager.default.attributesOfItem(atPath: image)[.size] as? NSNumber)??.uint64Value ?? 0)
    let stream = try ImageStream(path: image, compression: compression)
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
          hasher.update(bufferPointer: slice)
          if piece.upperBound > device.size {
            throw PiSwarmError(
              .invalidInput, "\(image) is larger than \(device.path) (\(device.size) bytes)", advice: "use a larger card")
          }
          wroteAnything = true
          try write(slice, at: piece.lowerBound, fd: fd, tailFD: tailFD, device: device.path)
          written += UInt64(slice.count)
        }
        chunks.append(Chunk(offset: offset, pieces: pieces, digest: hasher.finalize()))
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
      var read: UInt64 = 0
      for chunk in chunks {
        var hasher = SHA256()
        for piece in chunk.pieces {
          let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(piece.count)])
          do throws(PiSwarmError) {
            try readBack(into: slice, at: piece.lowerBound, fd: fd, tailFD: tailFD, device: device.path)
          } catch { try failed(error, fd: fd, device: device.path) }
          hasher.update(bufferPointer: UnsafeRawBufferPointer(slice))
          read += UInt64(piece.count)
        }
        if hasher.finalize() != chunk.digest {
          try failed(
            PiSwarmError(
              .system, "\(device.path) does not hold what was written in the 4 MiB at offset \(chunk.offset)",
              advice: "the card is failing or fake (smaller than it says): use another"), fd: fd, device: device.path)
        }
        if let progress, Date().timeIntervalSince(lastReport) > 0.5 {
          lastReport = Date()
          progress(
            BurnProgress(
              device: device.name, phase: .verify, fraction: written > 0 ? Double(read) / Double(written) : 1, bytes: read,
              seconds: Date().timeIntervalSince(verifyStart)))
        }
      }
      verifySeconds = Date().timeIntervalSince(verifyStart)
    }
    return BurnResult(
      device: device.path, imageSize: offset, written: written, writeSeconds: writeSeconds, verifySeconds: verifySeconds,
      sha256: stream.sourceDigest, partitions: partitions)
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
