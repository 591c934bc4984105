import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A process started from an argument array (never a shell string), its output collected.
/// Built on posix_spawn, poll and waitpid: no run loop, no signal handler, no shared state.
public struct Command: Sendable {
  public var executable: String
  public var arguments: [String]
  /// Nil inherits piswarm's environment.
  public var environment: [String: String]?
  public var directory: String?
  /// Seconds after which the process is killed (SIGKILL) and the run fails; nil waits forever.
  public var timeout: Double?
  /// Keep stdin open after `input` is written, until the process closes its output: for a peer
  /// (like `docker system dial-stdio`) that would take an early EOF as the client going away.
  public var keepInputOpen = false
  /// The most bytes kept of stdout and of stderr each: a process that writes more is killed
  /// (SIGKILL) and its output marked `truncated`. Nil keeps everything.
  public var outputLimit: Int?

  public init(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    timeout: Double? = nil
  ) {
    self.executable = executable
    self.arguments = arguments
    self.environment = environment
    self.directory = directory
    self.timeout = timeout
  }

  public struct Output: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    /// True when the process was killed because its timeout passed.
    public var timedOut: Bool = false
    /// True when the process wrote more than `outputLimit` and was killed for it.
    public var truncated: Bool = false
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
  }

  /// Runs to completion. The executable is looked up on PATH when it holds no '/'. The exit
  /// status is the process's, or 128 + the signal that ended it.
  public func run(input: Data? = nil, onOutput: (@Sendable (Data, Bool) -> Void)? = nil) throws(PiSwarmError) -> Output {
    Signals.ignoreBrokenPipes()
    guard let path = Self.resolve(executable) else {
      throw PiSwarmError(
        .system, "\(executable) is not installed (not found on PATH)", advice: "install it, e.g. with 'make deps'")
    }
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    var inPipe: [Int32] = [-1, -1]
    // Pipes are made and marked close-on-exec under the same lock as every spawn, so that no
    // other thread's child inherits them (which would hold their write ends open).
    let made = Self.spawnLock.withLock { _ in
      Self.cloexecPipe(&outPipe) && Self.cloexecPipe(&errPipe) && (input == nil || Self.cloexecPipe(&inPipe))
    }
    guard made else {
      throw PiSwarmError(.system, "cannot make pipes for \(executable): \(String(cString: strerror(errno)))")
    }
    // A working folder goes through env(1): glibc's addchdir is not visible to Swift here.
    let words = directory.map { ["/usr/bin/env", "-C", $0, path] } ?? [path]
    let program = directory == nil ? path : "/usr/bin/env"
    let started = Spawn.start(program, words + arguments, environment: environment) { actions in
      if input != nil {
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
      } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
      }
      posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
      posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    }
    close(outPipe[1])
    close(errPipe[1])
    if input != nil { close(inPipe[0]) }
    guard case .success(let pid) = started else {
      close(outPipe[0])
      close(errPipe[0])
      if input != nil { close(inPipe[1]) }
      if case .failure(let failure) = started { throw PiSwarmError(.system, "cannot start \(executable): \(failure.text)") }
      throw PiSwarmError(.system, "cannot start \(executable)")
    }
    Children.register(pid)
    let (stdout, stderr, timedOut, truncated) = Self.pump(
      stdout: outPipe[0], stderr: errPipe[0], stdin: input == nil ? -1 : inPipe[1], input: input ?? Data(), pid: pid,
      deadline: timeout.map { Date().addingTimeInterval($0) }, keepInputOpen: keepInputOpen, outputLimit: outputLimit,
      onOutput: onOutput)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    Children.unregister(pid)
    let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return Output(status: code, stdout: stdout, stderr: stderr, timedOut: timedOut, truncated: truncated)
  }

  static let spawnLock = Mutex(())

  /// The children a `Command` is waiting for, so that an interrupted piswarm can end them.
  public enum Children {
    static let running = Mutex(Set<pid_t>())

    static func register(_ pid: pid_t) { running.withLock { _ = $0.insert(pid) } }
    static func unregister(_ pid: pid_t) { running.withLock { _ = $0.remove(pid) } }

    /// Sends `signal` to every child still running (by PID, only our own).
    public static func signalAll(_ signal: Int32) {
      for pid in running.withLock({ $0 }) { kill(pid, signal) }
    }

  }

  static func cloexecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return true
  }

  /// Feeds stdin and drains stdout and stderr until both close, killing the process at the
  /// deadline or when it writes more than `outputLimit` on either. A reader that went away
  /// (EPIPE on stdin) ends the feeding, nothing else.
  static func pump(
    stdout: Int32, stderr: Int32, stdin: Int32, input: Data, pid: pid_t, deadline: Date?, keepInputOpen: Bool = false,
    outputLimit: Int? = nil, onOutput: (@Sendable (Data, Bool) -> Void)? = nil
  ) -> (Data, Data, Bool, Bool) {
    var truncated = false
    var heldOpen: Int32 = -1
    defer { if heldOpen >= 0 { close(heldOpen) } }
    var out = Data()
    var err = Data()
    var pending = input[...]
    var writeFD = stdin
    var open: [Int32: Bool] = [stdout: true, stderr: true]
    var timedOut = false
    var buffer = [UInt8](repeating: 0, count: 65536)
    if writeFD >= 0 {
      _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
      if pending.isEmpty {
        if keepInputOpen { heldOpen = writeFD } else { close(writeFD) }
        writeFD = -1
      }
    }
    while open.values.contains(true) || writeFD >= 0 {
      var fds = open.filter(\.value).map { pollfd(fd: $0.key, events: Int16(POLLIN), revents: 0) }
      if writeFD >= 0 { fds.append(pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)) }
      var wait: Int32 = -1
      if let deadline {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 {
          if !timedOut { kill(pid, SIGKILL) }
          timedOut = true
          wait = 100
        } else {
          wait = Int32(min(left, 1) * 1000) + 1
        }
      }
      let ready = poll(&fds, nfds_t(fds.count), wait)
      if ready < 0 && errno != EINTR { break }
      for entry in fds where entry.revents != 0 {
        if entry.fd == writeFD {
          let written = pending.withUnsafeBytes { write(writeFD, $0.baseAddress, $0.count) }
          if written > 0 { pending = pending.dropFirst(written) }
          if written < 0 && errno != EAGAIN || pending.isEmpty {
            if keepInputOpen && written >= 0 { heldOpen = writeFD } else { close(writeFD) }
            writeFD = -1
          }
          continue
        }
        let count = read(entry.fd, &buffer, buffer.count)
        if count > 0 {
          var kept = count
          if let outputLimit {
            let held = entry.fd == stdout ? out.count : err.count
            kept = max(0, min(count, outputLimit - held))
          }
          if kept > 0 {
            onOutput?(Data(buffer[0..<kept]), entry.fd == stderr)
            if entry.fd == stdout { out.append(contentsOf: buffer[0..<kept]) } else { err.append(contentsOf: buffer[0..<kept]) }
          }
          if kept < count {
            // Over the limit: the process is killed and its output no longer read (a child
            // of its own holding the pipe gets EPIPE rather than being drained forever).
            truncated = true
            kill(pid, SIGKILL)
            for (fd, isOpen) in open where isOpen {
              open[fd] = false
              close(fd)
            }
            break
          }
        } else if count == 0 || errno != EINTR && errno != EAGAIN {
          open[entry.fd] = false
          close(entry.fd)
        }
      }
    }
    return (out, err, timedOut, truncated)
  }

  /// Runs and throws when the exit status is not 0, with the tool's stderr as the cause.
  @discardableResult
  public func check(input: Data? = nil) throws(PiSwarmError) -> Output {
    let output = try run(input: input)
    guard output.status == 0 else {
      let what = ([executable] + arguments).joined(separator: " ")
      throw PiSwarmError(
        .system,
        output.timedOut
          ? "\(what) did not finish within \(Int(timeout ?? 0)) s"
          : output.truncated
            ? "\(what) wrote more than \(Self.describe(bytes: outputLimit ?? 0)) and was stopped"
            : "\(what) failed with status \(output.status)",
        cause: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return output
  }

  /// `16 MiB`, `512 KiB`, `100 bytes`.
  public static func describe(bytes: Int) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
    if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
    return "\(bytes) bytes"
  }

  public static func resolve(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    let folders: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
    for folder in folders {
      let candidate = "\(folder)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}
