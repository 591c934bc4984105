import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What a capture stored.
public struct CapturedImage: Codable, Sendable {
  public var image: ImportedImage
  /// The node's disk as it arrived, before compression: its size and SHA-256.
  public var rawBytes: UInt64
  public var rawSHA256: String
  public var seconds: Double
  /// What the node said on stderr while it copied (the file systems it held still), made safe
  /// for a terminal.
  public var notes: [String]
}

/// A node's boot disk into the image store: `source` (ssh running Scripts/capture.sh on the
/// node) writes the disk's raw bytes on its stdout; piswarm reads them, hashes them as they
/// arrive and hands them to zstd (on the head: its CPU is many times a Pi's, and a Pi's card
/// reads slower than its network carries), which writes `captured.img.zst`. The file is then
/// imported like any image (its partitions checked, boot files and root made ready for netboot)
/// and kept in the image's folder as its source, which `burn --image NAME` writes. Everything
/// happens under `.import-NAME.capture-PID` until it is complete. The file holds the node's
/// secrets (its host keys): 0600.
public struct ImageCapture {
  public var store: ImageStore
  /// Called with (bytes received, bytes expected, seconds), at most ten times a second.
  public var progress: ((UInt64, UInt64, Double) -> Void)?

  public init(store: ImageStore, progress: ((UInt64, UInt64, Double) -> Void)? = nil) {
    self.store = store
    self.progress = progress
  }

  /// The file name of a captured image's source in its folder.
  public static let fileName = "captured.img.zst"

  public func capture(
    source: [String], bytes expected: UInt64, name: String, node: String
  ) throws(PiSwarmError)
    -> CapturedImage
  {
    let temporary = try store.beginImport(name, verb: "capture", tag: ".capture", mode: 0o700)
    defer { try? FileManager.default.removeItem(atPath: temporary) }
    let file = temporary + "/" + Self.fileName
    let clock = Stopwatch()
    let (count, digest) = try receive(source: source, into: file, folder: temporary, expected: expected, node: node)
    let notes = (Files.readWhole(temporary + "/source.err") ?? "").split(separator: "\n").map { String($0).terminalSafe }

    var image = try ImageImporter(store: store).importImage(file: file, name: name)
    let kept = store.folder(name) + "/" + Self.fileName
    guard rename(file, kept) == 0 else {
      let reason = String(cString: strerror(errno))
      try? store.remove(name)
      throw PiSwarmError(.system, "cannot move the capture to \(kept): \(reason)")
    }
    // Both hold the node's host keys: readable by root only (zstd made its file by the umask,
    // inside a 0700 folder).
    chmod(kept, 0o600)
    chmod(store.rootFilesystem(name), 0o600)
    image.source = kept
    return CapturedImage(image: image, rawBytes: count, rawSHA256: digest, seconds: clock.seconds, notes: notes)
  }

  /// Runs `source` and zstd, moves the bytes from one to the other; the count and SHA-256.
  func receive(
    source: [String], into file: String, folder: String, expected: UInt64, node: String
  ) throws(PiSwarmError)
    -> (UInt64, String)
  {
    let compressorLog = folder + "/zstd.err"
    let sourceLog = folder + "/source.err"
    let compressor = try ChildProcess.start(
      ["zstd", "-q", "-T0", "-3", "-f", "-o", file], stdin: .pipe, stdout: .null, stderr: .file(compressorLog, append: false))
    let reader: ChildProcess
    do throws(PiSwarmError) {
      reader = try ChildProcess.start(source, stdin: .null, stdout: .pipe, stderr: .file(sourceLog, append: false))
    } catch {
      close(compressor.input)
      compressor.wait()
      throw error
    }
    var readerDone = false
    var compressorDone = false
    defer {
      if !readerDone {
        reader.signal(SIGTERM)
        close(reader.output)
        reader.wait()
      }
      if !compressorDone {
        close(compressor.input)
        compressor.wait()
      }
    }
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 4096)
    defer { chunk.deallocate() }
    var hasher = SHA256()
    var count: UInt64 = 0
    let clock = Stopwatch()
    var reported = -1.0
    while true {
      let got = try FileDescriptors.readFully(reader.output, into: chunk)
      if got == 0 { break }
      let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<got])
      hasher.update(bufferPointer: bytes)
      count += UInt64(got)
      guard Signals.writeAll(compressor.input, bytes) else {
        throw PiSwarmError(
          .system, "zstd stopped taking the capture at byte \(count): \(Self.text(compressorLog))",
          advice: "check the space left under \(store.directory)")
      }
      if let progress, clock.seconds - reported >= 0.1 {
        reported = clock.seconds
        progress(count, expected, reported)
      }
    }
    close(reader.output)
    let sourceStatus = reader.wait()
    readerDone = true
    close(compressor.input)
    let compressorStatus = compressor.wait()
    compressorDone = true
    progress?(count, expected, clock.seconds)
    guard sourceStatus == 0 else {
      throw PiSwarmError(
        .system, "the copy from \(node) ended with status \(sourceStatus) after \(count) bytes",
        advice: "check the node's disk and its SSH connection, then capture again",
        cause: Self.text(sourceLog))
    }
    guard compressorStatus == 0 else {
      throw PiSwarmError(
        .system, "zstd failed (status \(compressorStatus)) writing \(file)",
        advice: "check the space left under \(store.directory)",
        cause: Self.text(compressorLog))
    }
    guard count == expected else {
      throw PiSwarmError(
        .system, "\(node) sent \(count) bytes of its disk, not the \(expected) it announced",
        advice: "capture again; if it repeats, check the node's disk ('dmesg' on the node)", cause: Self.text(sourceLog))
    }
    return (count, hasher.finalize().hexDigits)
  }

  static func text(_ path: String) -> String {
    (Files.readWhole(path) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).terminalSafe
  }
}
