import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH
import PiSwarmSystem

/// What the stack commands share: the cluster, a manager of its swarm (the Engine API client
/// piswarm reads through), and the docker context the CLI reaches the swarm through, pointed at
/// that manager.
struct StackSession {
  let loaded: LoadedCluster
  let transport: SSHTransport
  let manager: Node
  let client: DockerClient

  var cluster: Cluster { loaded.cluster }

  static func open(_ global: GlobalOptions, _ remote: RemoteOptions) throws(PiSwarmError) -> StackSession {
    let loaded = try global.loadCluster(printWarnings: false)
    let transport = remote.transport(loaded.cluster, global: global)
    try transport.prepare()
    Interrupts.install { transport.closeMasters(loaded.cluster.managers) }
    let (manager, client) = try Self.manager(loaded.cluster, transport: transport)
    return StackSession(loaded: loaded, transport: transport, manager: manager, client: client)
  }

  /// The first manager of cluster.yml whose dockerd answers as a manager that can change the swarm.
  static func manager(_ cluster: Cluster, transport: SSHTransport) throws(PiSwarmError) -> (Node, DockerClient) {
    var problems: [String] = []
    for node in cluster.managers {
      var client = RunSession.dockerClient(transport, node)
      do {
        try client.negotiate()
        if try client.info().Swarm.ControlAvailable == true { return (node, client) }
        problems.append("\(node.name) is not a manager of a swarm")
      } catch {
        problems.append("\(node.name): \(error)")
      }
    }
    throw PiSwarmError(
      .system, "no manager of the swarm answers (\(problems.joined(separator: "; ")))",
      advice: "'piswarm up' forms the swarm; 'piswarm status' shows which managers answer")
  }

  /// Points the cluster's docker context at this session's manager.
  func writeContext() throws(PiSwarmError) {
    try DockerContextFiles.write(cluster: cluster, manager: manager, transport: transport)
  }

  func closeMasters() throws { try Interrupts.finish(transport, cluster.managers) }
}
