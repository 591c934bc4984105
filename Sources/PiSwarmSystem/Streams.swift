import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A process whose stdout is read as a stream (a decompressor feeding an image import): stdin is
/// a file opened for it, stdout a pipe the caller reads, stderr kept in a file for the message.
public final class StreamingProcess {
  public let pid: pid_t
  /// The read end of the process's stdout.
  public let output: Int32
  let errorLog: String
  let name: String
  private var finished: Int32?

  /// Starts `arguments` (looked up on PATH) with stdin from `inputFile`.
  public init(_ arguments: [String], inputFile: String) throws(PiSwarmError) {
    guard let executable = arguments.first, let path = Command.resolve(executable) else {
      throw PiSwarmError(
        .system, "\(arguments.first ?? "?") is not installed (not found on PATH)", advice: "install it, e.g. with 'make deps'")
    }
    name = executable
    errorLog = NSTemporaryDirectory() + "/piswarm-\(executable)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
    var pipeFDs: [Int32] = [-1, -1]
    guard Command.spawnLock.withLock({ _ in Command.cloexecPipe(&pipeFDs) }) else {
      throw PiSwarmError(.system, "cannot make a pipe for \(executable): \(String(cString: strerror(errno)))")
    }
    let log = errorLog
    let started = Spawn.start(path, [path] + arguments.dropFirst(), environment: nil) { actions in
      posix_spawn_file_actions_addopen(&actions, 0, inputFile, O_RDONLY, 0)
      posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
      posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    }
    close(pipeFDs[1])
    switch started {
    case .success(let pid):
      self.pid = pid
      output = pipeFDs[0]
      Command.Children.register(pid)
    case .failure(let failure):
      close(pipeFDs[0])
      throw PiSwarmError(.system, "cannot start \(executable): \(failure.text)")
    }
  }

  /// How far the process has read its stdin file (from /proc), for progress.
  public var inputPosition: UInt64? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/0", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("pos:") {
      return UInt64(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
    }
    return nil
  }

  /// Closes stdout, waits for the process and returns its exit status and stderr. Killing it
  /// first (by its PID) when `kill` is true.
  @discardableResult
  public func finish(kill killFirst: Bool = false) -> (status: Int32, stderr: String) {
    if let finished { return (finished, "") }
    if killFirst { kill(pid, SIGKILL) }
    close(output)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    Command.Children.unregister(pid)
    let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    finished = code
    let text = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
    unlink(errorLog)
    return (code, text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  deinit { if finished == nil { finish(kill: true) } }
}

/// Reading whole buffers from a descriptor.
public enum FileDescriptors {
  /// Reads until `buffer` is full or the end of input; returns the count read.
  public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(PiSwarmError) -> Int {
    var total = 0
    while total < buffer.count {
      let count = read(fd, buffer.baseAddress?.advanced(by: total), buffer.count - total)
      if count == 0 { break }
      if count < 0 {
        if errno == EINTR { continue }
        throw PiSwarmError(.system, "cannot read: \(String(cString: strerror(errno)))")
      }
      total += count
    }
    return total
  }
}

/// What kind of filesystem holds a path, and whether it is a mount point.
public enum Filesystems {
  /// The filesystem type of the mount holding `path` (btrfs, xfs, ext4, tmpfs, overlay, …), from
  /// /proc/self/mountinfo: the last-mounted of the longest mount points above it.
  public static func type(of path: String) -> String? {
    guard let text = Files.readWhole("/proc/self/mountinfo") else { return nil }
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    var best: (length: Int, type: String)?
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
      let point = Mounts.unescape(String(fields[4]))
      let covers = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
      if covers && point.count >= (best?.length ?? -1) { best = (point.count, String(fields[dash + 1])) }
    }
    return best?.type
  }

  /// Whether the kernel lists `name` in /proc/filesystems.
  public static func kernelSupports(_ name: String) -> Bool {
    let text = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").contains { $0.split(separator: "\t").last.map(String.init) == name }
  }

  /// Whether `path` is a mount point of this mount namespace.
  public static func isMountPoint(_ path: String) -> Bool {
    Mounts.points().contains(path)
  }

}
