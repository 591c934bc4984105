import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A lab of virtual nodes on this machine: network namespaces on a bridge of their own, each
/// node with its own host name, mounts, PID namespace, sshd and dockerd.
public struct VirtualLab: Sendable {
  public let stateDirectory: String

  /// Where progress goes (stderr in the CLI).
  public let progress: @Sendable (String) -> Void

  public init(stateDirectory: String, progress: @escaping @Sendable (String) -> Void = { _ in }) {
    self.stateDirectory = Files.absolute(stateDirectory)
    self.progress = progress
  }

  /// Programs a lab needs, with the Debian package that has each.
  public static let prerequisites: [(String, String)] = [
    ("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"), ("tini-static", "tini"),
    ("sshd", "openssh-server"), ("ssh-keygen", "openssh-client"), ("dockerd", "docker.io"), ("docker", "docker.io"),
    ("busybox", "busybox-static"), ("tar", "tar"), ("mount", "mount"),
  ]

  public static func missingPrerequisites() -> [(String, String)] {
    prerequisites.filter { Command.resolve($0.0) == nil }
  }

  public struct NodeStatus: Sendable, Codable, Equatable {
    public var name: String
    public var ip: String
    public var mac: String
    public var running: Bool
    public var docker: Bool
    public var ssh: Bool
    public var pid: Int32?
  }

  public func status(name: String) -> [NodeStatus] {
    guard let state = LabState.load(name: name, stateDirectory: stateDirectory) else { return [] }
    return state.layout(stateDirectory: stateDirectory).nodes.map { node in
      let launcher = state.launchers[node.name].flatMap { isLauncher($0, of: node) ? $0 : nil }
      let docker =
        launcher.flatMap(dockerSocket).map { Probes.unixHTTPGet(socket: $0, path: "/_ping", timeout: 1)?.status == 200 } ?? false
      let ssh = launcher != nil && Probes.tcpBanner(host: node.ip, port: 22, timeout: 1)?.hasPrefix("SSH-") == true
      return NodeStatus(
        name: node.name, ip: node.ip.description, mac: node.mac.description, running: launcher != nil, docker: docker, ssh: ssh,
        pid: launcher.flatMap(initPID))
    }
  }
}
