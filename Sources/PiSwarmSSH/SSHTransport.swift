import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Remote commands over the system OpenSSH client, one ControlMaster per node.
public struct SSHTransport: Sendable {
  public var stateDirectory: String
  public var user: String
  public var key: String
  public var connectTimeout: Int
  /// Per-command limit in seconds (nil: none).
  public var commandTimeout: Double?
  /// Extra tries after a connection failure (never after any other failure).
  public var retries: Int
  public var trustNew: Bool

  public init(
    stateDirectory: String, user: String, key: String, connectTimeout: Int = 5, commandTimeout: Double? = nil,
    retries: Int = 2, trustNew: Bool = false
  ) {
    self.stateDirectory = Files.absolute(stateDirectory)
    self.user = user
    self.key = key
    self.connectTimeout = connectTimeout
    self.commandTimeout = commandTimeout
    self.retries = retries
    self.trustNew = trustNew
  }

  /// The most a node may write on stdout, and on stderr, in one command: 16 MiB. A node that
  /// writes more has its command stopped and fails with a note saying so.
  public static let outputLimit = 16 << 20

  public var knownHosts: String { stateDirectory + "/known_hosts" }
  public var controlDirectory: String { stateDirectory + "/ssh" }

  public func invocation(_ node: Node) -> SSHInvocation {
    SSHInvocation(
      user: user, host: node.ip.description, key: key, knownHosts: knownHosts, controlDirectory: controlDirectory,
      connectTimeout: connectTimeout, trustNew: trustNew)
  }

  /// Checks what every run needs: the key, the folders (0700).
  public func prepare() throws(PiSwarmError) {
    guard Files.exists(key) else {
      throw PiSwarmError(
        .invalidInput, "the SSH key \(key) does not exist", advice: "set ssh.key in the cluster file, or run 'piswarm init'")
    }
    try Files.makePrivateDirectory(controlDirectory)
    if !Files.exists(knownHosts) { try AtomicFile.write("", to: knownHosts, mode: 0o600) }
  }

  /// Runs `command` (an argument vector, quoted for the remote shell) on `node`, retrying with
  /// backoff when no connection could be made.
  public func run(_ node: Node, _ command: [String], onOutput: (@Sendable (Data, Bool) -> Void)? = nil) -> NodeResult {
    let ssh = invocation(node)
    let started = Stopwatch()
    var attempt = 0
    while true {
      attempt += 1
      let output: Command.Output
      do {
        var ssh = Command("ssh", ssh.arguments(remote: command), timeout: commandTimeout)
        ssh.outputLimit = Self.outputLimit
        output = try ssh.run(onOutput: onOutput)
      } catch {
        return NodeResult(
          node: node.name, host: ssh.host, outcome: .notStarted, exitCode: nil, stdout: "", stderr: "", seconds: 0,
          attempts: attempt,
          message: error.description)
      }
      if output.truncated {
        return NodeResult(
          node: node.name, host: ssh.host, outcome: .outputLimit, exitCode: nil, stdout: output.stdoutText,
          stderr: output.stderrText, seconds: started.seconds, attempts: attempt,
          message:
            "the node wrote more than \(Command.describe(bytes: Self.outputLimit)) of output: the command was stopped and its output cut off there"
        )
      }
      let failure = SSHFailure.classify(status: output.status, stderr: output.stderrText, timedOut: output.timedOut)
      if failure == .unreachable, attempt <= retries, !Cancellation.isCancelled {
        usleep(useconds_t(200_000 << (attempt - 1)))  // 0.2 s, 0.4 s, …
        continue
      }
      if Cancellation.isCancelled && failure != nil {
        return NodeResult(
          node: node.name, host: ssh.host, outcome: .cancelled, exitCode: nil, stdout: output.stdoutText,
          stderr: output.stderrText,
          seconds: started.seconds, attempts: attempt, message: "interrupted")
      }
      let stderr = output.stderrText
      return NodeResult(
        node: node.name, host: ssh.host, outcome: RemoteStatus(failure),
        exitCode: failure == nil || failure == .commandFailed ? output.status : nil,
        stdout: output.stdoutText, stderr: stderr, seconds: started.seconds, attempts: attempt,
        message: failure.map {
          $0 == .commandFailed
            ? "exit status \(output.status)" : $0.advice(node: node.name, host: ssh.host, knownHosts: knownHosts)
        })
    }
  }

  /// Runs on many nodes at once; one failure never stops the others.
  public func run(
    on nodes: [Node], _ command: [String], parallel: Int, onOutput: (@Sendable (Node, Data, Bool) -> Void)? = nil
  ) -> [NodeResult] {
    FanOut.run(
      nodes, parallel: parallel,
      skipped: { node in
        NodeResult(
          node: node.name, host: node.ip.description, outcome: .cancelled, exitCode: nil, stdout: "", stderr: "", seconds: 0,
          attempts: 0, message: "interrupted before it started")
      },
      { node in run(node, command, onOutput: onOutput.map { callback in { data, isError in callback(node, data, isError) } }) })
  }

  /// Whether a host key is pinned for `node` in piswarm's known_hosts.
  public func isPinned(_ node: Node) -> Bool {
    let text = (try? String(contentsOfFile: knownHosts, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").contains {
      $0.split(separator: " ").first?.split(separator: ",").contains(Substring(node.ip.description)) == true
    }
  }

  /// The SHA256 fingerprint pinned for `node`, for messages.
  public func fingerprint(_ node: Node) -> String? {
    let output = try? Command("ssh-keygen", ["-l", "-F", node.ip.description, "-f", knownHosts]).run()
    return output?.stdoutText.split(separator: "\n").first { !$0.hasPrefix("#") }?.split(separator: " ").dropFirst(2).first.map(
      String.init)
  }

  /// Stops the masters of `nodes` (ssh -O exit), and any master process still serving a socket
  /// in this state directory (found by PID through its command line).
  public func closeMasters(_ nodes: [Node]) {
    for node in nodes where Files.exists(invocation(node).controlPath) {
      _ = try? Command("ssh", invocation(node).exitMaster, timeout: 5).run()
    }
    for pid in Processes.all() where Processes.name(pid) == "ssh" {
      if Processes.commandLine(pid).contains(where: { $0.contains(controlDirectory + "/") }) { Processes.signal(pid, SIGTERM) }
    }
  }
}
