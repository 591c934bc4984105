import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem

/// Reads what `RunPlanner` decides from, changing nothing: each node's swarm state from its own
/// dockerd (all at once), our swarm's view from one of its managers, and what the state store
/// remembers (an owed token rotation, the unlock key). The unlock key never leaves this type:
/// the observation only says whether the kept one is the swarm's.
public struct RunObserver: Sendable {
  public let cluster: Cluster
  public let parallel: Int
  public let client: @Sendable (Node) -> DockerClient
  public var memory: any SwarmMemory = InMemorySwarmMemory()
  public var progress: @Sendable (String) -> Void = { _ in }

  public init(cluster: Cluster, parallel: Int, client: @escaping @Sendable (Node) -> DockerClient) {
    self.cluster = cluster
    self.parallel = parallel
    self.client = client
  }

  /// The nodes as preflight's round trip read them (its findings, and what Docker's setup probe
  /// printed after them); a node without probe output could not be reached.
  public static func nodes(
    _ cluster: Cluster, findings: [Preflight.Finding], probed: [String: String]
  ) -> [String:
    NodeObservation]
  {
    var nodes: [String: NodeObservation] = [:]
    for node in cluster.nodes {
      let own = findings.filter { $0.node == node.name }
      var seen = NodeObservation(findings: own.filter { $0.check != "ssh" })
      if let ssh = own.first(where: { $0.check == "ssh" }) {
        seen.unreachable = ssh.message
      } else if let output = probed[node.name] {
        seen.engine = EngineSetup.parse(output)
      }
      nodes[node.name] = seen
    }
    return nodes
  }

  /// Adds each node's swarm state to `nodes` and reads the swarm and the memory. A node's state
  /// comes from the `/info` Docker's setup probe read there (one round trip a node), else from
  /// its Engine API (nodes that could not be reached are not asked).
  public func observe(_ nodes: [String: NodeObservation]) -> RunObservation {
    var nodes = nodes
    for node in cluster.nodes {
      guard let info = nodes[node.name]?.engine?.engineInfo, nodes[node.name]?.unreachable == nil else { continue }
      do {
        let swarm = try EngineInfo.fromProbe(info, node: node.name).Swarm.local(node: node.name)
        // An init or join under way is waited for through the Engine API, below.
        if swarm.state != .pending { nodes[node.name]?.swarm = swarm }
      } catch {
        nodes[node.name]?.dockerError = "\(error)"
      }
    }
    let asked = cluster.nodes.filter {
      let seen = nodes[$0.name]
      return seen?.unreachable == nil && seen?.swarm == nil && seen?.dockerError == nil
    }
    let answers = FanOut.run(
      asked, parallel: parallel, skipped: { _ in (nil, "interrupted") },
      { (node: Node) -> (LocalSwarm?, String?) in
        var docker = client(node)
        do {
          try docker.negotiate()
          var swarm = try docker.info().Swarm
          // "pending": an init or join under way (one an interrupted run started, which dockerd
          // goes on with). It settles within seconds, into a swarm or out of one: wait for that.
          let settled = Deadline(in: 30)
          while swarm.LocalNodeState == .pending, !settled.hasPassed, !Cancellation.isCancelled {
            usleep(250_000)
            swarm = try docker.info().Swarm
          }
          return (try swarm.local(node: node.name), nil)
        } catch {
          return (nil, "\(error)")
        }
      })
    for (node, answer) in zip(asked, answers) {
      nodes[node.name, default: NodeObservation()].swarm = answer.0
      nodes[node.name, default: NodeObservation()].dockerError = answer.1
    }
    var observation = RunObservation(nodes: nodes)
    let kept: String?
    do {
      kept = try memory.unlockKey()
      observation.unlockKey = kept.map { $0.isEmpty ? .none : .kept } ?? .none
    } catch {
      kept = nil
      observation.unlockKey = .unreadable(error.description)
    }
    do { observation.rotationOwed = try memory.rotationOwed() } catch {
      progress("cannot read the state store: \(error)")
    }
    if let (source, clusterID) = RunPlanner.swarmSource(nodes, cluster: cluster) {
      var docker = client(source)
      do {
        try docker.negotiate()
        let members = try docker.nodes().map(\.member)
        let autolock = try docker.swarmInspect().autolock
        var current = true
        if autolock, let kept { current = (try? docker.unlockKey()) == kept }
        observation.swarm = SwarmView(
          clusterID: clusterID, via: source.name, members: members, autolock: autolock, keptKeyIsCurrent: current)
      } catch {
        observation.swarmError = "through \(source.name): \(error)"
      }
    }
    return observation
  }
}

extension SwarmNode {
  /// The entry as the planner reads it.
  public var member: SwarmMember {
    SwarmMember(
      id: ID, address: self.Status.Addr,
      managerAddress: self.ManagerStatus?.Addr.map { String($0.split(separator: ":").first ?? "") },
      role: Spec.Role, labels: Spec.Labels ?? [:], availability: Spec.Availability,
      state: self.Status.State, leader: self.ManagerStatus?.Leader ?? false)
  }
}
