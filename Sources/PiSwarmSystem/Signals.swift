import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide signal dispositions piswarm relies on.
public enum Signals {
  static let pipesIgnored = Atomic<Bool>(false)

  /// Ignores SIGPIPE for the whole process, once: a peer that goes away (an ssh whose node
  /// vanished, a `docker system dial-stdio` that ended, a closed stdout as in `piswarm status |
  /// head -1`) turns a write into EPIPE, which the writer handles, instead of ending piswarm.
  /// Children still start with the default disposition (see `Spawn`).
  public static func ignoreBrokenPipes() {
    guard !pipesIgnored.exchange(true, ordering: .relaxed) else { return }
    signal(SIGPIPE, SIG_IGN)
  }

  /// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns false when the
  /// reader went away (EPIPE) or another error stopped it; never raises SIGPIPE.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { writeAll(fd, $0) }
  }

  /// `writeAll` for bytes in memory.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
    ignoreBrokenPipes()
    var offset = 0
    while offset < buffer.count {
      let written = write(fd, buffer.baseAddress?.advanced(by: offset), buffer.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        return false
      }
      offset += written
    }
    return true
  }

}
