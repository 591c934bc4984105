import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// dnsmasq's log (`log-facility`, with `log-dhcp`) grows with every request on the LAN. piswarm
/// keeps it bounded: past `limit` its content moves to `LOG.1` (the one older generation kept)
/// and the log is emptied in place. dnsmasq opens it for appending, so it goes on writing at the
/// new end without a restart. At most about twice `limit` is ever on disk.
public enum DnsmasqLogRotation {
  /// 8 MiB.
  public static let limit: Int64 = 8 << 20

  /// Rotates `path` when it is larger than `limit`. Returns whether it did.
  @discardableResult
  public static func rotate(_ path: String, limit: Int64 = DnsmasqLogRotation.limit) throws(PiSwarmError) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int64(info.st_size) > limit else { return false }
    let content = try Files.read(path)
    try AtomicFile.write(content, to: path + ".1", mode: 0o640)
    guard truncate(path, 0) == 0 else {
      throw PiSwarmError(.system, "cannot empty \(path) after keeping it as \(path).1: \(String(cString: strerror(errno)))")
    }
    return true
  }
}
