import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The exclusive lock a mutating command holds on the state directory: `flock` on `STATE/lock`,
/// with the holder's PID and command written inside so a second command can name it.
/// The kernel drops the lock when the process ends, however it ends.
public final class StateLock: Sendable {
  public let path: String
  private let fd: Int32

  private init(path: String, fd: Int32) {
    self.path = path
    self.fd = fd
  }

  /// Takes the lock at once or throws `.locked` naming the holder.
  public static func acquire(stateDirectory: String, command: String) throws(PiSwarmError) -> StateLock {
    let path = stateDirectory + "/lock"
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw PiSwarmError(.system, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let holder = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
      close(fd)
      throw PiSwarmError(
        .locked, "another piswarm is changing this cluster: \(describe(holder: holder))",
        advice: "wait for it to finish, or stop it; the lock is \(path)")
    }
    let record = "pid=\(getpid())\ncommand=\(command)\nsince=\(ISO8601DateFormatter().string(from: Date()))\n"
    ftruncate(fd, 0)
    _ = record.withCString { pwrite(fd, $0, strlen($0), 0) }
    return StateLock(path: path, fd: fd)
  }

  static func describe(holder: String) -> String {
    var fields: [String: String] = [:]
    for line in holder.split(separator: "\n") {
      let parts = line.split(separator: "=", maxSplits: 1)
      if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
    }
    guard let pid = fields["pid"] else { return "a process whose PID is not recorded yet" }
    var text = "PID \(pid)"
    if let command = fields["command"] { text += " running '\(command)'" }
    if let since = fields["since"] { text += " since \(since)" }
    return text
  }

  /// Releases the lock (also released when the process exits).
  public func release() {
    ftruncate(fd, 0)
    flock(fd, LOCK_UN)
    close(fd)
  }
}
