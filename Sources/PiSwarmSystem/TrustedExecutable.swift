import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// Whether a program is one only root can change: what piswarm requires of a binary that runs
/// as root on events from the LAN (the dnsmasq hook).
public enum TrustedExecutable {
  /// Nil when `path` resolves to a regular file owned by root, not writable by group or others,
  /// in folders (up to `/`) owned by root that group and others cannot write (a sticky folder
  /// such as /tmp counts as safe: only an entry's owner may rename it). Else why not.
  public static func problem(_ path: String) -> String? {
    guard let resolved = resolve(path) else { return "\(path) does not exist" }
    var info = stat()
    guard lstat(resolved, &info) == 0 else { return "\(resolved) cannot be read: \(String(cString: strerror(errno)))" }
    guard info.st_mode & S_IFMT == S_IFREG else { return "\(resolved) is not a regular file" }
    if info.st_uid != 0 { return "\(resolved) is owned by user \(info.st_uid), not root" }
    if info.st_mode & 0o022 != 0 {
      return "\(resolved) is writable by \(info.st_mode & 0o002 != 0 ? "everyone" : "its group") (mode \(octal(info.st_mode)))"
    }
    var folder = (resolved as NSString).deletingLastPathComponent
    while true {
      guard stat(folder, &info) == 0 else { return "\(folder) cannot be read: \(String(cString: strerror(errno)))" }
      if info.st_uid != 0 { return "the folder \(folder) is owned by user \(info.st_uid), not root" }
      if info.st_mode & 0o022 != 0 && info.st_mode & mode_t(S_ISVTX) == 0 {
        return
          "the folder \(folder) is writable by \(info.st_mode & 0o002 != 0 ? "everyone" : "its group") (mode \(octal(info.st_mode)))"
      }
      if folder == "/" || folder.isEmpty { return nil }
      folder = (folder as NSString).deletingLastPathComponent
    }
  }

  /// `path` with every symlink resolved (realpath), or nil when it does not exist.
  public static func resolve(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// The resolved path of `path` when it is trusted; else an error naming the problem with
  /// advice to install piswarm properly.
  public static func check(_ path: String, purpose: String) throws(PiSwarmError) -> String {
    if let problem = problem(path) {
      throw PiSwarmError(
        .invalidInput, "\(purpose) would run \(path) as root, but \(problem)",
        advice:
          "install piswarm where only root can change it and run that copy, e.g. 'install -o root -m 0755 .build/release/piswarm /usr/local/bin/'"
      )
    }
    return resolve(path) ?? path
  }

  static func octal(_ mode: mode_t) -> String { "0" + String(mode & 0o7777, radix: 8) }
}
