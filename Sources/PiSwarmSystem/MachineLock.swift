import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A blocking machine-wide lock (flock on a file), for short critical sections shared by every
/// piswarm on the machine.
public final class MachineLock: Sendable {
  private let fd: Int32
  private let released = Mutex(false)

  private init(fd: Int32) { self.fd = fd }

  public static func acquire(_ path: String) throws(PiSwarmError) -> MachineLock {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw PiSwarmError(.system, "cannot open the lock \(path): \(String(cString: strerror(errno)))") }
    while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    return MachineLock(fd: fd)
  }

  /// Releases the lock; later calls do nothing.
  public func release() {
    let first = released.withLock { done -> Bool in
      defer { done = true }
      return !done
    }
    if first {
      flock(fd, LOCK_UN)
      close(fd)
    }
  }
}
