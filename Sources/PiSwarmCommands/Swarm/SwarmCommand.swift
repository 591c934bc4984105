import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

struct SwarmCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "swarm",
    abstract: "Take nodes out of service: drain, or remove from the swarm.",
    discussion: """
      Examples:
        piswarm swarm drain node04     # tasks move elsewhere; the node stays in the swarm
        piswarm swarm rm node04        # drain, demote if a manager, leave, remove
      """,
    subcommands: [SwarmDrain.self, SwarmRemove.self]
  )
}

extension RemoteOptions {
  /// A client for a reachable manager other than `except`, and one for `node` itself.
  func clients(
    _ cluster: Cluster, global: GlobalOptions, except node: Node
  ) throws(PiSwarmError) -> (
    manager: DockerClient, node: DockerClient?
  ) {
    let transport = transport(cluster, global: global)
    try transport.prepare()
    func connect(_ target: Node) -> DockerClient? {
      var client = DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(target)))
      guard (try? client.negotiate()) != nil, let info = try? client.info() else { return nil }
      return info.Swarm.LocalNodeState == .active || target == node ? client : nil
    }
    for candidate in cluster.managers where candidate != node {
      if let client = connect(candidate), (try? client.info().Swarm.ControlAvailable) == true {
        return (client, connect(node))
      }
    }
    throw PiSwarmError(
      .system, "no reachable manager besides \(node.name)", advice: "'piswarm status' shows which managers answer")
  }
}
