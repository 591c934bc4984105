import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// dockerd on a node, reached over SSH: `ssh … docker system dial-stdio` carries the HTTP stream
/// (what `docker -H ssh://` does), through the node's ControlMaster. No TCP port is opened. One
/// dial-stdio carries every request of a run (HTTP keep-alive), so a node costs one process.
public final class SSHDialStdioTransport: DockerTransport {
  public let ssh: SSHInvocation
  public let timeout: Double
  let conversation = Mutex<Conversation?>(nil)

  public init(ssh: SSHInvocation, timeout: Double = 60) {
    self.ssh = ssh
    self.timeout = timeout
  }

  public var endpoint: String { ssh.host }

  public func exchange(_ request: HTTP.Request) throws(PiSwarmError) -> Data {
    do {
      return try attempt(request)
    } catch {
      // A conversation that ended (dockerd restarted, the master closed) is opened once more
      // for requests that change nothing.
      guard request.method == "GET" else { throw error }
      conversation.withLock { $0 = nil }
      return try attempt(request)
    }
  }

  func attempt(_ request: HTTP.Request) throws(PiSwarmError) -> Data {
    let current = try conversation.withLock { (slot: inout Conversation?) throws(PiSwarmError) -> Conversation in
      if let open = slot { return open }
      let started = try Conversation(["ssh"] + ssh.arguments(remote: ["docker", "system", "dial-stdio"]))
      slot = started
      return started
    }
    do {
      return try current.exchange(request.bytes(keepAlive: true), timeout: timeout, isComplete: HTTP.isComplete)
    } catch {
      conversation.withLock { if $0 === current { $0 = nil } }
      current.close()
      throw describe(error)
    }
  }

  /// Turns a failed conversation into what it means: no SSH, or no dockerd.
  func describe(_ error: PiSwarmError) -> PiSwarmError {
    // ssh's stderr, the only place it says why it could not connect.
    let stderr = (error.cause as? PiSwarmError.Text)?.text ?? ""
    if let failure = SSHFailure.classify(status: 255, stderr: stderr, timedOut: false), failure != .commandFailed {
      return PiSwarmError(
        .system, "\(ssh.host): cannot reach dockerd over SSH (\(failure.rawValue))",
        advice: failure.advice(node: ssh.host, host: ssh.host, knownHosts: ssh.knownHosts), cause: error.cause)
    }
    return PiSwarmError(
      .system, "\(ssh.host): dockerd is not answering",
      advice: "is Docker installed and running there? ('piswarm exec NODE -- docker info')",
      cause: error.cause ?? PiSwarmError.Text(error.message))
  }

  deinit { conversation.withLock { $0?.close() } }
}
