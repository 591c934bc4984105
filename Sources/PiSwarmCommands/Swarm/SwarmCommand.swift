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

struct SwarmNodeOptions: ParsableArguments {
  @Argument(help: "The node.")
  var node: String

  @Option(help: "Seconds to wait for its tasks to move.")
  var wait: Double = 120

  /// The cluster and the one node named.
  func target(_ global: GlobalOptions) throws(PiSwarmError) -> (Cluster, Node) {
    let cluster = try global.loadCluster(printWarnings: false).cluster
    let nodes = try Targets.resolve(node, in: cluster).get()
    guard nodes.count == 1, let target = nodes.first else { throw PiSwarmError(.invalidInput, "name one node, e.g. node04") }
    return (cluster, target)
  }
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
      return info.Swarm.LocalNodeState == "active" || target == node ? client : nil
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

struct SwarmDrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "drain", abstract: "Drain a node and wait until its tasks have moved.",
    discussion: "Example:\n  piswarm swarm drain node04")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions
  @OptionGroup var options: SwarmNodeOptions

  func run() throws {
    try reporting {
      let (cluster, target) = try options.target(global)
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let (manager, _) = try remote.clients(cluster, global: global, except: target)
        try SwarmRemoval(manager: manager) { Console.err($0) }.drain(target, timeout: options.wait)
      }
      Console.out("\(target.name) drained\n")
    }
  }
}

struct SwarmRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm", abstract: "Drain a node, demote it if a manager, make it leave, and remove it from the swarm.",
    discussion: """
      The node stays in cluster.yml (the next 'piswarm up' would join it again): remove it there
      with 'piswarm node rm NAME'.

      Example:
        piswarm swarm rm node04
      """,
    aliases: ["remove"])
  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions
  @OptionGroup var options: SwarmNodeOptions

  func run() throws {
    try reporting {
      let (cluster, target) = try options.target(global)
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let (manager, own) = try remote.clients(cluster, global: global, except: target)
        try SwarmRemoval(manager: manager) { Console.err($0) }.remove(target, client: own, timeout: options.wait)
      }
      Console.out("\(target.name) removed from the swarm; 'piswarm node rm \(target.name)' takes it out of cluster.yml\n")
    }
  }
}
