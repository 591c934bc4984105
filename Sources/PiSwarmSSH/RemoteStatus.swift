import PiSwarmCore

/// How a remote command ended on one node. The raw values are what `exec` prints and `--json`
/// holds; code switches on the cases.
public enum RemoteStatus: String, Sendable, Codable, Equatable {
  case ok
  /// The command ran and exited non-zero.
  case failed
  /// No connection: refused, timed out, no route.
  case unreachable
  case hostKeyChanged = "host-key-changed"
  case hostKeyUnknown = "host-key-unknown"
  case authenticationFailed = "auth-failed"
  /// piswarm's own timeout for the command passed.
  case timedOut = "timed-out"
  /// Interrupted (SIGINT/SIGTERM) before or while it ran.
  case cancelled
  /// ssh itself could not be started on the head.
  case notStarted = "not-started"
  /// The node wrote more than piswarm reads of one command: it was stopped, its output cut off.
  case outputLimit = "output-limit"

  /// The status for an ssh exit that `SSHFailure.classify` judged (nil: success).
  public init(_ failure: SSHFailure?) {
    switch failure {
    case nil: self = .ok
    case .commandFailed: self = .failed
    case .unreachable: self = .unreachable
    case .hostKeyChanged: self = .hostKeyChanged
    case .hostKeyUnknown: self = .hostKeyUnknown
    case .authenticationFailed: self = .authenticationFailed
    case .timedOut: self = .timedOut
    }
  }
}
