import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A process started from an argument array (never a shell string) and run to its end, its
/// output collected: a layer on `ChildProcess` (posix_spawn, poll and waitpid: no run loop, no
/// signal handler, no shared state).
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

  public typealias Output = ProcessOutput

  /// Runs to completion. The executable is looked up on PATH when it holds no '/'. The exit
  /// status is the process's, or 128 + the signal that ended it.
  public func run(input: Data? = nil, onOutput: (@Sendable (Data, Bool) -> Void)? = nil) throws(PiSwarmError) -> Output {
    let child = try ChildProcess.start(
      [executable] + arguments, environment: environment, directory: directory, stdin: input == nil ? .null : .pipe)
    return child.collect(
      input: input ?? Data(), deadline: timeout.map(Deadline.init(in:)), outputLimit: outputLimit,
      keepInputOpen: keepInputOpen, onOutput: onOutput)
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

  /// The program `name` names (see `ChildProcess.resolve`).
  public static func resolve(_ name: String) -> String? { ChildProcess.resolve(name) }
}
