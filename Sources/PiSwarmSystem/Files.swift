import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// Small file-system helpers with errors that name the path.
public enum Files {
  /// Creates `path` and its missing parents (0755); `mode` (exactly, whatever the umask) on
  /// `path` when it makes it. A folder that exists keeps its mode: piswarm never loosens one.
  public static func makeDirectory(_ path: String, mode: mode_t) throws(PiSwarmError) {
    var info = stat()
    if stat(path, &info) == 0 {
      guard info.st_mode & S_IFMT == S_IFDIR else {
        throw PiSwarmError(.exists, "\(path) exists and is not a folder", advice: "move it away, then run again")
      }
      return
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path, stat(parent, &info) != 0 { try makeDirectory(parent, mode: 0o755) }
    guard mkdir(path, mode) == 0 else {
      if errno == EEXIST, stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return }
      throw PiSwarmError(.system, "cannot create the folder \(path): \(String(cString: strerror(errno)))")
    }
    guard chmod(path, mode) == 0 else {
      throw PiSwarmError(.system, "cannot set the mode of \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Creates `path` (and its parents) as a folder only root reads: 0700 when made; an existing
  /// one loses its group and other bits (tightened, never loosened).
  public static func makePrivateDirectory(_ path: String) throws(PiSwarmError) {
    try makeDirectory(path, mode: 0o700)
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw PiSwarmError(.system, "cannot look at \(path): \(String(cString: strerror(errno)))")
    }
    if info.st_mode & 0o077 != 0, chmod(path, info.st_mode & 0o7700) != 0 {
      throw PiSwarmError(.system, "cannot set the mode of \(path): \(String(cString: strerror(errno)))")
    }
  }

  public static func read(_ path: String) throws(PiSwarmError) -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        throw PiSwarmError(.invalidInput, "cannot read \(path)\(isDirectory.boolValue ? ": it is a folder" : "")")
      }
      throw PiSwarmError(.notFound, "\(path) does not exist")
    }
    return data
  }

  /// The whole text of a file read to its end, for /proc files whose size says 0 (mountinfo
  /// grows past one page with a few overlay mounts); nil when it cannot be read.
  public static func readWhole(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if count == 0 { break }
      bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  /// `~` and `~/…` expanded against HOME.
  public static func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return home + path.dropFirst()
  }

  /// An absolute form of `path` against the current folder.
  public static func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
  }
}
