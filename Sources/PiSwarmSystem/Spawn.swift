import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The one place piswarm starts a process: posix_spawn from an argument vector (no shell), under
/// the lock that also guards making close-on-exec pipes, with an empty signal mask and default
/// dispositions for the signals piswarm itself may ignore.
public enum Spawn {
  /// Starts `program` with `argv` (argv[0] included). `files` sets up the child's descriptors.
  /// Returns the PID, or the errno of a failed start.
  static func start(
    _ program: String, _ argv: [String], environment: [String: String]?, newSession: Bool = false,
    files: (inout posix_spawn_file_actions_t) -> Void
  ) -> Result<pid_t, SpawnError> {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    files(&actions)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // 0x80 is POSIX_SPAWN_SETSID (glibc 2.26+), not exported to Swift.
    let ownGroup = !newSession && isolated.load(ordering: .relaxed)
    let flags =
      Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | (newSession ? 0x80 : 0)
      | (ownGroup ? Int32(POSIX_SPAWN_SETPGROUP) : 0)
    posix_spawnattr_setflags(&attributes, Int16(flags))
    if ownGroup { posix_spawnattr_setpgroup(&attributes, 0) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)

    let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let cEnvironment: [UnsafeMutablePointer<CChar>?] =
      (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in cArguments { free(pointer) }
      for pointer in cEnvironment { free(pointer) }
    }
    var pid: pid_t = 0
    let result = Command.spawnLock.withLock { _ in posix_spawn(&pid, program, &actions, &attributes, cArguments, cEnvironment) }
    return result == 0 ? .success(pid) : .failure(SpawnError(code: result))
  }

  static let isolated = Atomic<Bool>(false)

  /// From now on, children start in a process group of their own: a Ctrl-C at the terminal
  /// (SIGINT to the whole foreground group) reaches piswarm alone, which lets the step under way
  /// finish (a mount, a copy, an unmount) instead of having it killed half-way.
  public static func isolateChildren() { isolated.store(true, ordering: .relaxed) }

  struct SpawnError: Error {
    var code: Int32
    var text: String { String(cString: strerror(code)) }
  }
}
