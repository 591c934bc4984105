import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// Whole-file writes that never leave a half-written file: a temporary file beside the target,
/// fsync, rename, fsync of the folder. Nothing is written when the content is already there.
public enum AtomicFile {
  /// Writes `data` to `path` unless the file already holds exactly that. Returns whether it wrote.
  /// A new file gets `mode`; an existing file keeps its mode.
  @discardableResult
  public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(PiSwarmError) -> Bool {
    if holds(data, at: path) { return false }
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var info = stat()
    let finalMode = stat(path, &info) == 0 ? info.st_mode & 0o7777 : mode
    let temporary = folder + "/.\(url.lastPathComponent).piswarm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, finalMode)
    guard fd >= 0 else { throw failure("cannot create \(temporary)") }
    var ok = false
    defer {
      if !ok { unlink(temporary) }
    }
    let written = writeAll(data, to: fd)
    guard written, fchmod(fd, finalMode) == 0, fsync(fd) == 0 else {
      close(fd)
      throw failure("cannot write \(temporary)")
    }
    close(fd)
    guard rename(temporary, path) == 0 else { throw failure("cannot replace \(path)") }
    ok = true
    let dirFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dirFD >= 0 {
      fsync(dirFD)
      close(dirFD)
    }
    return true
  }

  /// Whether the file at `path` holds exactly `data`: `write` would leave it alone (a dry run
  /// asks this instead of writing).
  public static func holds(_ data: Data, at path: String) -> Bool {
    FileManager.default.contents(atPath: path) == data
  }

  public static func holds(_ text: String, at path: String) -> Bool { holds(Data(text.utf8), at: path) }

  @discardableResult
  public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(PiSwarmError) -> Bool {
    try write(Data(text.utf8), to: path, mode: mode)
  }

  /// Writes all of `data` to `fd` (short writes and EINTR retried); false on an error.
  static func writeAll(_ data: Data, to fd: Int32) -> Bool {
    data.withUnsafeBytes { buffer -> Bool in
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.write(fd, buffer.baseAddress?.advanced(by: offset), buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        offset += n
      }
      return true
    }
  }

  static func failure(_ message: String) -> PiSwarmError {
    PiSwarmError(.system, "\(message): \(String(cString: strerror(errno)))")
  }
}
