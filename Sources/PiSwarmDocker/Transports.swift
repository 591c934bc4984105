import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// dockerd on a node, reached over SSH: `ssh … docker system dial-stdio` carries the HTTP stream
/// (what `docker -H ssh://` does), through the node's ControlMaster. No TCP port is opened.
public struct SSHDialStdioTransport: DockerTransport {
  public let ssh: SSHInvocation
  public let timeout: Double

  public init(ssh: SSHInvocation, timeout: Double = 60) {
    self.ssh = ssh
    self.timeout = timeout
  }

  public var endpoint: String { ssh.host }

  public func exchange(_ request: Data) throws(PiSwarmError) -> Data {
    var command = Command("ssh", ssh.arguments(remote: ["docker", "system", "dial-stdio"]), timeout: timeout)
    command.keepInputOpen = true
    let output = try command.run(input: request)
    let stderr = output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard output.stdout.isEmpty,
      let failure = SSHFailure.classify(status: output.status, stderr: stderr, timedOut: output.timedOut)
    else {
      return output.stdout
    }
    if failure == .commandFailed {
      throw PiSwarmError(
        .system, "\(ssh.host): dockerd is not answering",
        advice: "is Docker installed and running there? ('piswarm exec NODE -- docker info')",
        cause: stderr)
    }
    throw PiSwarmError(
      .system, "\(ssh.host): cannot reach dockerd over SSH (\(failure.rawValue))",
      advice: failure.advice(node: ssh.host, host: ssh.host, knownHosts: ssh.knownHosts), cause: stderr)
  }
}

/// dockerd on a Unix socket (the local daemon, or a stub server in tests).
public struct UnixSocketTransport: DockerTransport {
  public let path: String

  public init(path: String) { self.path = path }

  public var endpoint: String { "unix://\(path)" }

  public func exchange(_ request: Data) throws(PiSwarmError) -> Data {
    guard let data = Probes.unixExchange(socket: path, request: request, timeout: 60) else {
      throw PiSwarmError(.system, "cannot reach dockerd at \(path)", advice: "is dockerd running?")
    }
    return data
  }
}
