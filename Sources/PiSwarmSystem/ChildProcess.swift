import CPiSwarmSys
import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The one way piswarm starts a process: posix_spawn from an argument vector (never a shell
/// string), with its environment, working folder, standard descriptors and process group set by
/// the spawn itself, an empty signal mask and every signal at its default disposition (piswarm
/// ignores SIGPIPE, SIGINT and SIGTERM; its children must not inherit that). `Command`,
/// `Conversation`, `StreamingProcess` and `Processes.spawnDetached` are layers on it.
///
/// The parent's ends of the pipes (`input`, `output`, `errors`) belong to the caller, who closes
/// them; `collect` does so itself.
public struct ChildProcess: Sendable {
  /// Where the child's stdin comes from.
  public enum Input: Sendable {
    /// /dev/null.
    case null
    /// A pipe; its write end is `input`.
    case pipe
    /// A descriptor of ours (say a pipe's read end); it stays open here, for the caller to close.
    case descriptor(Int32)
    /// A file, opened read-only.
    case file(String)
  }

  /// Where the child's stdout or stderr goes.
  public enum Output: Sendable {
    /// A pipe; its read end is `output` (or `errors`).
    case pipe
    /// /dev/null.
    case null
    /// A file, made 0600 when new, truncated or appended to.
    case file(String, append: Bool)
    /// piswarm's own.
    case inherit
    /// For stderr: wherever stdout goes.
    case stdout
  }

  /// Which process group the child joins.
  public enum Group: Sendable {
    /// piswarm's, or a group of its own once `isolateChildren()` was called.
    case piswarms
    /// A group of its own: the terminal's Ctrl-C does not reach it, and `signal` reaches every
    /// process in it (its children too).
    case own
    /// A session of its own, detached from piswarm: it outlives piswarm and is not among the
    /// `Children` that an interrupt ends.
    case session
  }

  public let pid: pid_t
  /// The write end of the child's stdin with `Input.pipe`, else -1.
  public let input: Int32
  /// The read end of the child's stdout with `Output.pipe`, else -1.
  public let output: Int32
  /// The read end of the child's stderr with `Output.pipe`, else -1.
  public let errors: Int32
  /// Whether the child leads a process group of its own; `signal` then goes to the whole group.
  public let leadsGroup: Bool
  /// The program's name as given, for messages.
  public let name: String
  let tracked: Bool

  /// Starts `arguments` (argv[0] looked up on PATH when it holds no '/'). A nil `environment`
  /// passes piswarm's own; a `directory` is where the child starts.
  public static func start(
    _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, stdin: Input = .null,
    stdout: Output = .pipe, stderr: Output = .pipe, group: Group = .piswarms
  ) throws(PiSwarmError) -> ChildProcess {
    Signals.ignoreBrokenPipes()
    guard let name = arguments.first, var path = resolve(name) else {
      throw PiSwarmError(
        .system, "\(arguments.first ?? "?") is not installed (not found on PATH)",
        advice: "install it, e.g. with 'make deps'")
    }
    // A relative program is found from piswarm's folder, not the child's.
    if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
    var pipes = Pipes()
    do throws(PiSwarmError) {
      if case .pipe = stdin { pipes.input = try makePipe(name) }
      if case .pipe = stdout { pipes.output = try makePipe(name) }
      if case .pipe = stderr { pipes.errors = try makePipe(name) }
    } catch {
      pipes.closeAll()
      throw error
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    switch stdin {
    case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    case .pipe: posix_spawn_file_actions_adddup2(&actions, pipes.input[0], 0)
    case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, 0)
    case .file(let file): posix_spawn_file_actions_addopen(&actions, 0, file, O_RDONLY, 0)
    }
    addOutput(&actions, stdout, 1, pipe: pipes.output)
    addOutput(&actions, stderr, 2, pipe: pipes.errors)
    if let directory { piswarm_spawn_addchdir(&actions, directory) }

    let ownGroup = group == .own || group == .piswarms && isolated.load(ordering: .relaxed)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    if group == .session { flags |= PISWARM_POSIX_SPAWN_SETSID } else if ownGroup { flags |= Int32(POSIX_SPAWN_SETPGROUP) }
    posix_spawnattr_setflags(&attributes, Int16(flags))
    posix_spawnattr_setpgroup(&attributes, 0)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in 1..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, Int32(signal)) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)

    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments.dropFirst()).map { strdup($0) } + [nil]
    let environ: [UnsafeMutablePointer<CChar>?] =
      (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in environ { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    pipes.closeChildEnds()
    guard result == 0 else {
      pipes.closeAll()
      let place = directory.map { " in \($0)" } ?? ""
      throw PiSwarmError(.system, "cannot start \(name)\(place): \(String(cString: strerror(result)))")
    }
    let tracked = group != .session
    if tracked { Children.register(pid) }
    return ChildProcess(
      pid: pid, input: pipes.input[1], output: pipes.output[0], errors: pipes.errors[0],
      leadsGroup: ownGroup || group == .session,
      name: name, tracked: tracked)
  }

  /// Sends `signal` to the child, by its PID; to its whole group when it leads one.
  @discardableResult
  public func signal(_ signal: Int32) -> Bool { kill(leadsGroup ? -pid : pid, signal) == 0 }

  /// Waits for the child to end: its exit status, or 128 + the signal that ended it.
  @discardableResult
  public func wait() -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if tracked { Children.unregister(pid) }
    return Self.code(status)
  }

  /// The child's status if it has ended (and it is collected), nil while it runs.
  public func ended() -> Int32? {
    var status: Int32 = 0
    let result = waitpid(pid, &status, WNOHANG)
    if result == 0 { return nil }
    if tracked { Children.unregister(pid) }
    return result == pid ? Self.code(status) : -1
  }

  static func code(_ status: Int32) -> Int32 { (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F) }

  /// The program `name` names: itself when it holds a '/', else the first executable of that
  /// name on PATH (then /usr/sbin and /sbin, which a root's PATH may lack).
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

  static let isolated = Atomic<Bool>(false)

  /// From now on, children start in a process group of their own: a Ctrl-C at the terminal
  /// (SIGINT to the whole foreground group) reaches piswarm alone, which lets the step under way
  /// finish (a mount, a copy, an unmount) instead of having it killed half-way.
  public static func isolateChildren() { isolated.store(true, ordering: .relaxed) }

  /// The children piswarm is waiting for, so that an interrupted piswarm can end them.
  public enum Children {
    static let running = Mutex(Set<pid_t>())

    static func register(_ pid: pid_t) { running.withLock { _ = $0.insert(pid) } }
    static func unregister(_ pid: pid_t) { running.withLock { _ = $0.remove(pid) } }

    /// Sends `signal` to every child still running (by PID, only our own).
    public static func signalAll(_ signal: Int32) {
      for pid in running.withLock({ $0 }) { kill(pid, signal) }
    }
  }

  /// The pipes of one start, [read, write] each, -1 when not made.
  struct Pipes {
    var input: [Int32] = [-1, -1]
    var output: [Int32] = [-1, -1]
    var errors: [Int32] = [-1, -1]

    /// After the spawn: the ends the child holds are closed here.
    mutating func closeChildEnds() {
      for fd in [input[0], output[1], errors[1]] where fd >= 0 { close(fd) }
      input[0] = -1
      output[1] = -1
      errors[1] = -1
    }

    mutating func closeAll() {
      for fd in input + output + errors where fd >= 0 { close(fd) }
      self = Pipes()
    }
  }

  /// A pipe whose ends are close-on-exec from the start (pipe2), so no other thread's child
  /// inherits them.
  static func makePipe(_ name: String) throws(PiSwarmError) -> [Int32] {
    var fds: [Int32] = [-1, -1]
    guard piswarm_pipe_cloexec(&fds) == 0 else {
      throw PiSwarmError(.system, "cannot make a pipe for \(name): \(String(cString: strerror(errno)))")
    }
    return fds
  }

  static func addOutput(_ actions: inout posix_spawn_file_actions_t, _ output: Output, _ fd: Int32, pipe: [Int32]) {
    switch output {
    case .pipe: posix_spawn_file_actions_adddup2(&actions, pipe[1], fd)
    case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
    case .file(let path, let append):
      posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o600)
    case .inherit: break
    case .stdout: posix_spawn_file_actions_adddup2(&actions, 1, fd)
    }
  }
}
