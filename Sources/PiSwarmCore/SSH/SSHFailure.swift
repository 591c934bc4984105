/// What an ssh failure means, from its exit status and stderr.
public enum SSHFailure: String, Sendable, Codable, Equatable {
  /// The command ran and exited non-zero: not an SSH problem.
  case commandFailed = "failed"
  /// No connection: refused, timed out, no route, name unknown. Safe to retry.
  case unreachable
  /// The node's host key differs from the pinned one: never accepted silently.
  case hostKeyChanged = "host-key-changed"
  /// No key is pinned for this node and --trust-new was not given.
  case hostKeyUnknown = "host-key-unknown"
  /// The key was refused (not in authorized_keys, wrong user).
  case authenticationFailed = "auth-failed"
  /// piswarm's own timeout for the command passed.
  case timedOut = "timed-out"

  /// Classifies an ssh exit. Nil means success.
  public static func classify(status: Int32, stderr: String, timedOut: Bool) -> SSHFailure? {
    if timedOut { return .timedOut }
    if status == 0 { return nil }
    guard status == 255 else { return .commandFailed }
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
      || stderr.contains("Host key for") && stderr.contains("has changed")
    {
      return .hostKeyChanged
    }
    if stderr.contains("No ED25519 host key is known") || stderr.contains("No RSA host key is known")
      || stderr.contains("No ECDSA host key is known") || stderr.contains("No host key is known")
      || stderr.contains("Host key verification failed")
    {
      return .hostKeyUnknown
    }
    if stderr.contains("Permission denied") || stderr.contains("Too many authentication failures") {
      return .authenticationFailed
    }
    // 255 is also a remote command's own exit status now and then; without an ssh message it is one.
    let sshMessages = [
      "Connection refused", "Connection timed out", "timed out", "No route to host", "Could not resolve",
      "Network is unreachable", "Connection closed", "Connection reset", "kex_exchange_identification", "port 22:",
    ]
    return sshMessages.contains(where: stderr.contains) ? .unreachable : .commandFailed
  }

  /// What it may mean and what to do, for the summary.
  public func advice(node: String, host: String, knownHosts: String) -> String {
    switch self {
    case .commandFailed: return "the command exited non-zero on \(node)"
    case .unreachable: return "no SSH connection to \(node) (\(host)); is it powered on and on the network? ('piswarm status')"
    case .hostKeyChanged:
      return
        "\(node)'s host key is not the one piswarm pinned: the node was reinstalled or re-imaged, its address now belongs to another machine, or someone is intercepting the connection. If you know why, re-pin it with: ssh-keygen -R \(host) -f \(knownHosts), then run again with --trust-new"
    case .hostKeyUnknown:
      return
        "no host key is pinned for \(node) (\(host)); if this is a machine piswarm did not create, run again with --trust-new to record the key it shows"
    case .authenticationFailed: return "\(node) refused the cluster's SSH key; is its public key in the node's authorized_keys?"
    case .timedOut: return "the command did not finish on \(node) in time (--timeout)"
    }
  }
}
