import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A process whose stdout is read as a stream (a decompressor feeding an image import): stdin
/// from a descriptor or a file, stdout a pipe the caller reads, stderr kept in a file for the
/// message (a pipe nobody drains could fill and stall it). A layer on `ChildProcess`.
public final class StreamingProcess {
  let child: ChildProcess
  public var pid: pid_t { child.pid }
  /// The read end of the process's stdout.
  public var output: Int32 { child.output }
  let errorLog: String
  private var finished: Int32?

  /// Starts `arguments` (looked up on PATH) with stdin from `input` (a descriptor of ours stays
  /// open here: the caller closes it once the child has it).
  public init(_ arguments: [String], input: ChildProcess.Input) throws(PiSwarmError) {
    let name = arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "process"
    errorLog = NSTemporaryDirectory() + "/piswarm-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
    child = try ChildProcess.start(arguments, stdin: input, stdout: .pipe, stderr: .file(errorLog, append: false))
  }

  /// Closes stdout, waits for the process and returns its exit status and stderr. Killing it
  /// first (by its PID, or its group when it leads one) when `kill` is true.
  @discardableResult
  public func finish(kill killFirst: Bool = false) -> (status: Int32, stderr: String) {
    if let finished { return (finished, "") }
    if killFirst { child.signal(SIGKILL) }
    close(output)
    let code = child.wait()
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
