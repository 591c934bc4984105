import CPiSwarmSys
import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The bytes of a disk image as one stream, decompressed when the file is compressed. The source
/// file is read once, by this stream, in chunks: each chunk is hashed (SHA-256 of the file as
/// downloaded, the digest that image sites publish) and, for a compressed file, fed to the
/// decompressor's stdin while its stdout is read, in one loop with poll(2) and no thread.
final class ImageStream {
  let path: String
  private let source: Int32
  private var hasher = SHA256()
  /// Whether the source file is hashed as it is read (`sourceDigest`).
  private let hashesSource: Bool
  /// Bytes of the source file read so far (for progress).
  private(set) var sourcePosition: UInt64 = 0
  private var decompressor: StreamingProcess?
  /// The write end of the decompressor's stdin (non-blocking); -1 once closed.
  private var toDecompressor: Int32 = -1
  private let chunk: UnsafeMutableRawBufferPointer
  private var pending: Range<Int> = 0..<0
  private var sourceAtEnd = false
  private var closed = false

  /// `hashesSource: false` skips the source file's SHA-256 (for a raw image that is compared
  /// byte for byte instead: hashing it would cost more CPU than the copy itself).
  init(path: String, compression: ImageCompression, hashesSource: Bool = true) throws(PiSwarmError) {
    self.path = path
    self.hashesSource = hashesSource
    source = open(path, O_RDONLY | O_CLOEXEC)
    guard source >= 0 else { throw PiSwarmError(.system, "cannot open \(path): \(String(cString: strerror(errno)))") }
    chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    guard let arguments = compression.decompressor else { return }
    var fds: [Int32] = [-1, -1]
    guard piswarm_pipe_cloexec(&fds) == 0 else {
      let reason = String(cString: strerror(errno))
      close(source)
      chunk.deallocate()
      throw PiSwarmError(.system, "cannot make a pipe for \(arguments[0]): \(reason)")
    }
    defer { close(fds[0]) }
    do {
      // The pipe's read end becomes the child's stdin; ours is closed once it has started.
      decompressor = try StreamingProcess(arguments, input: .descriptor(fds[0]))
    } catch {
      close(fds[1])
      close(source)
      chunk.deallocate()
      throw error
    }
    toDecompressor = fds[1]
    _ = fcntl(toDecompressor, F_SETFL, fcntl(toDecompressor, F_GETFL) | O_NONBLOCK)
  }

  deinit {
    finish(kill: true)
    chunk.deallocate()
  }

  /// Reads image bytes into `buffer`: fewer than its size when that is what is ready, 0 at the end.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(PiSwarmError) -> Int {
    guard let decompressor else { return try readSource(into: buffer) }
    while true {
      var fds = [pollfd(fd: decompressor.output, events: Int16(POLLIN), revents: 0)]
      if toDecompressor >= 0 { fds.append(pollfd(fd: toDecompressor, events: Int16(POLLOUT), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        throw PiSwarmError(.system, "cannot wait for \(path)'s decompressor: \(String(cString: strerror(errno)))")
      }
      if fds.count > 1 && fds[1].revents != 0 { try feed() }
      if fds[0].revents != 0 {
        let count = Glibc.read(decompressor.output, buffer.baseAddress, buffer.count)
        if count < 0 {
          if errno == EINTR || errno == EAGAIN { continue }
          throw PiSwarmError(.system, "cannot read \(path)'s decompressed image: \(String(cString: strerror(errno)))")
        }
        return count
      }
    }
  }

  /// Reads until `buffer` is full or the stream ends; returns the count read.
  func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(PiSwarmError) -> Int {
    var total = 0
    while total < buffer.count {
      let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
      if count == 0 { break }
      total += count
    }
    return total
  }

  /// Ends the stream: the rest of the source file is hashed (a decompressor may stop reading
  /// early), and the decompressor's exit status and stderr returned (0 and "" when there is none).
  @discardableResult
  func finish(kill: Bool = false) -> (status: Int32, stderr: String) {
    guard !closed else { return (0, "") }
    closed = true
    closeInput()
    var result: (status: Int32, stderr: String) = (0, "")
    if let decompressor { result = decompressor.finish(kill: kill) }
    if !kill && hashesSource {
      let scratch = UnsafeMutableRawBufferPointer(chunk)
      while !sourceAtEnd, (try? readSource(into: scratch)) ?? 0 > 0 {}
    }
    close(source)
    return result
  }

  /// The SHA-256 of the source file, as hex digits; call after `finish()`, and only on a stream
  /// that hashes its source.
  var sourceDigest: String { hasher.finalize().hexDigits }

  private func readSource(into buffer: UnsafeMutableRawBufferPointer) throws(PiSwarmError) -> Int {
    while true {
      let count = Glibc.read(source, buffer.baseAddress, buffer.count)
      if count < 0 {
        if errno == EINTR { continue }
        throw PiSwarmError(.system, "cannot read \(path): \(String(cString: strerror(errno)))")
      }
      if count == 0 { sourceAtEnd = true }
      if hashesSource { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
      sourcePosition += UInt64(count)
      return count
    }
  }

  /// Moves source bytes to the decompressor as far as its pipe takes them without blocking.
  private func feed() throws(PiSwarmError) {
    if pending.isEmpty {
      let count = try readSource(into: chunk)
      if count == 0 {
        closeInput()
        return
      }
      pending = 0..<count
    }
    guard let base = chunk.baseAddress else { return }
    let (written, failure) = Self.writeWithoutSIGPIPE(toDecompressor, base.advanced(by: pending.lowerBound), pending.count)
    if written >= 0 {
      pending = (pending.lowerBound + written)..<pending.upperBound
    } else if failure == EPIPE {
      // The decompressor stopped reading (it failed, or its stream ended): its exit status says which.
      closeInput()
    } else if failure != EAGAIN && failure != EINTR {
      throw PiSwarmError(.system, "cannot feed \(path) to its decompressor: \(String(cString: strerror(failure)))")
    }
  }

  private func closeInput() {
    if toDecompressor >= 0 { close(toDecompressor) }
    toDecompressor = -1
  }

  /// write(2) with SIGPIPE blocked for this thread, so that a decompressor that exited makes the
  /// write fail with EPIPE instead of killing piswarm; a SIGPIPE left pending is consumed.
  static func writeWithoutSIGPIPE(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> (Int, Int32) {
    var pipeSignal = sigset_t()
    sigemptyset(&pipeSignal)
    sigaddset(&pipeSignal, SIGPIPE)
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    let written = write(fd, bytes, count)
    let failure = errno
    if written < 0 && failure == EPIPE {
      var now = timespec(tv_sec: 0, tv_nsec: 0)
      _ = sigtimedwait(&pipeSignal, nil, &now)
    }
    return (written, failure)
  }
}
