import Foundation
import PiSwarmCore
import PiSwarmSSH
import Synchronization

/// Brings running dockerds to the swarm `cluster.yml` describes: init on the first manager with
/// an explicit advertise address, the other managers join one at a time, workers in parallel,
/// roles and labels applied (read, modify, write), join tokens rotated after any join. Nodes
/// already in this swarm are left alone; a node in another swarm is an error with advice.
public struct SwarmConvergence: Sendable {
  public struct Outcome: Sendable, Codable, Equatable {
    public var node: String
    public var role: String
    /// What was done: `unchanged`, `initialized`, `joined`, `promoted`, `demoted`, `labels`, or `failed`.
    public var actions: [String]
    public var error: String?

    public var failed: Bool { error != nil }
  }

  public let cluster: Cluster
  public let parallel: Int
  public let client: @Sendable (Node) -> DockerClient
  public let progress: @Sendable (String) -> Void
  /// How long the run waits for nodes to show Ready in the swarm.
  public var readyTimeout: Double = 30
  /// Nodes to observe but not change, with the reason (their Docker setup failed): they still
  /// show which swarm is ours, so a fresh manager never starts a second one.
  public var excluded: [String: String] = [:]

  public init(
    cluster: Cluster, parallel: Int, client: @escaping @Sendable (Node) -> DockerClient,
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.cluster = cluster
    self.parallel = parallel
    self.client = client
    self.progress = progress
  }

  struct Observed: Sendable {
    var node: Node
    var client: DockerClient?
    var info: EngineInfo?
    var error: String?
  }

  /// The labels piswarm puts on a node: swarm.labels, then the node's own.
  public static func labels(for node: Node, in cluster: Cluster) -> [String: String] {
    cluster.swarm.labels.merging(node.labels) { $1 }
  }

  /// The node's current spec with the role and labels of `desired` (labels merged: other
  /// labels someone put on the node stay).
  static func merged(_ current: SwarmNode.NodeSpec, with desired: SwarmNode.NodeSpec) -> SwarmNode.NodeSpec {
    var spec = current
    spec.Role = desired.Role
    var labels = current.Labels ?? [:]
    for (key, value) in desired.Labels ?? [:] { labels[key] = value }
    spec.Labels = labels
    return spec
  }

  /// Every node read at once, with the swarm that is ours (the one the desired managers are in)
  /// and nodes in another swarm marked as failed.
  func observe() -> (observed: [Observed], outcomes: [String: Outcome], clusterID: String?) {
    // Observe every node at once.
    var observed = FanOut.run(
      cluster.nodes, parallel: parallel, skipped: { Observed(node: $0, error: "interrupted") },
      { (node: Node) -> Observed in
        var docker = client(node)
        do {
          try docker.negotiate()
          return Observed(node: node, client: docker, info: try docker.info())
        } catch {
          return Observed(node: node, error: "\(error)")
        }
      })
    var outcomes = Dictionary(
      uniqueKeysWithValues: cluster.nodes.map { ($0.name, Outcome(node: $0.name, role: $0.role.rawValue, actions: [])) })
    for item in observed where item.error != nil { outcomes[item.node.name]?.error = item.error }

    // Which swarm is ours: the one the desired managers are in (the first one found).
    let managersFirst =
      observed.filter { $0.node.role == Node.Role.manager } + observed.filter { $0.node.role == Node.Role.worker }
    let clusterID = managersFirst.first { $0.info?.Swarm.LocalNodeState == "active" && $0.info?.Swarm.ControlAvailable == true }?
      .info?.Swarm.Cluster?.ID
    for index in observed.indices {
      guard let info = observed[index].info, info.Swarm.LocalNodeState != "inactive" else { continue }
      let theirs = info.Swarm.Cluster?.ID ?? info.Swarm.NodeID ?? "?"
      if info.Swarm.LocalNodeState == "active", clusterID == nil || info.Swarm.Cluster == nil { continue }
      if let clusterID, info.Swarm.Cluster?.ID != clusterID || info.Swarm.LocalNodeState != "active" {
        let state = info.Swarm.LocalNodeState
        outcomes[observed[index].node.name]?.error =
          "\(observed[index].node.name) is \(state == "active" ? "in another swarm (\(theirs.prefix(12)))" : "in swarm state \"\(state)\""); "
          + "make it leave first: 'piswarm exec \(observed[index].node.name) -- docker swarm leave --force' (this discards its swarm state)"
        observed[index].client = nil
      }
    }

    return (observed, outcomes, clusterID)
  }

  /// The cluster ID of the swarm `docker` is a manager of, once it has a leader (up to 30 s).
  static func settledSwarm(_ docker: DockerClient) -> String? {
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
      if let info = try? docker.info(), info.Swarm.LocalNodeState == "active", info.Swarm.ControlAvailable == true,
        let id = info.Swarm.Cluster?.ID
      {
        return id
      }
      usleep(250_000)
    }
    return nil
  }

  /// What `run` would change, without changing anything.
  public func plan() -> [Outcome] {
    let (observed, initial, clusterID) = observe()
    var outcomes = initial
    let usable = observed.filter { $0.client != nil }
    let outside = usable.filter { ($0.info?.Swarm.LocalNodeState ?? "inactive") == "inactive" }
    if clusterID == nil, let first = usable.first(where: { $0.node.role == Node.Role.manager }) {
      outcomes[first.node.name]?.actions.append("init")
    }
    for item in outside where outcomes[item.node.name]?.actions.isEmpty == true {
      outcomes[item.node.name]?.actions.append("join as \(item.node.role.rawValue)")
    }
    let leader = usable.first { $0.info?.Swarm.ControlAvailable == true && $0.info?.Swarm.Cluster?.ID == clusterID }?.client
    if let leader, let swarmNodes = try? leader.nodes() {
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        guard let current = swarmNodes.first(where: { $0.Status.Addr == node.ip.description && $0.Status.State == "ready" })
        else { continue }
        if current.Spec.Role != node.role.rawValue {
          outcomes[node.name]?.actions.append(node.role == .manager ? "promote" : "demote")
        }
        let labels = current.Spec.Labels ?? [:]
        let missing = Self.labels(for: node, in: cluster).filter { labels[$0.key] != $0.value }
        if !missing.isEmpty {
          outcomes[node.name]?.actions.append(
            "label " + missing.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
      }
    } else {
      for item in usable where outside.contains(where: { $0.node.name == item.node.name }) {
        let missing = Self.labels(for: item.node, in: cluster)
        if !missing.isEmpty {
          outcomes[item.node.name]?.actions.append(
            "label " + missing.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
      }
    }
    if outside.contains(where: { outcomes[$0.node.name]?.error == nil }) {
      outcomes[usable.first { $0.node.role == Node.Role.manager }?.node.name ?? ""]?.actions.append("rotate join tokens")
    }
    for name in outcomes.keys where outcomes[name]?.actions.isEmpty == true && outcomes[name]?.error == nil {
      outcomes[name]?.actions = ["unchanged"]
    }
    return cluster.nodes.compactMap { outcomes[$0.name] }
  }

  /// Entries of the swarm's node list that an earlier life of the node at `address` left:
  /// down workers with another ID. Managers are never removed this way (raft membership).
  public static func staleEntries(_ nodes: [SwarmNode], address: String, currentID: String) -> [SwarmNode] {
    nodes.filter {
      $0.ID != currentID && $0.Status.Addr == address && $0.Status.State == "down" && $0.Spec.Role == "worker"
        && $0.ManagerStatus == nil
    }
  }

  public func run() -> [Outcome] {
    var (observed, outcomes, clusterID) = observe()
    for (name, reason) in excluded where outcomes[name]?.error == nil { outcomes[name]?.error = reason }
    // Init on the first reachable manager when there is no swarm (never on an excluded one).
    let usable = observed.filter { $0.client != nil }
    let managers = usable.filter { $0.node.role == Node.Role.manager }
    guard
      let first = managers.first(where: { outcomes[$0.node.name]?.error == nil }) ?? (clusterID != nil ? managers.first : nil)
    else {
      for manager in cluster.managers where outcomes[manager.name]?.error == nil {
        outcomes[manager.name]?.error = "no manager is reachable, so the swarm cannot be formed or changed"
      }
      return cluster.nodes.compactMap { outcomes[$0.name] }
    }
    var leaderClient = usable.first { $0.info?.Swarm.ControlAvailable == true && $0.info?.Swarm.Cluster?.ID == clusterID }?.client
    if clusterID == nil, let docker = first.client {
      do {
        progress("\(first.node.name): swarm init, advertising \(first.node.ip)")
        do {
          _ = try docker.swarmInit(advertiseAddress: first.node.ip.description)
        } catch {
          // An init interrupted earlier (piswarm stopped while dockerd went on) finishes while
          // this run looks: the node then is "already part of a swarm", its own one. Adopt it
          // once it has a leader; anything else stays an error.
          guard error.description.contains("already part of a swarm"), let id = Self.settledSwarm(docker) else { throw error }
          clusterID = id
        }
        outcomes[first.node.name]?.actions.append("initialized")
        leaderClient = docker
        clusterID = try docker.info().Swarm.Cluster?.ID
      } catch {
        outcomes[first.node.name]?.error = "swarm init failed: \(error)"
        return cluster.nodes.compactMap { outcomes[$0.name] }
      }
    }
    guard let leader = leaderClient else { return cluster.nodes.compactMap { outcomes[$0.name] } }

    // Join: managers one at a time while the workers join in parallel (to the managers there
    // were at the start). Tokens stay in memory only.
    let outside = usable.filter {
      ($0.info?.Swarm.LocalNodeState ?? "inactive") == "inactive" && outcomes[$0.node.name]?.actions.isEmpty == true
        && outcomes[$0.node.name]?.error == nil
    }
    var joined = false
    if !outside.isEmpty {
      do {
        let tokens = try leader.swarmInspect().JoinTokens
        var managerAddresses =
          try leader.info().Swarm.RemoteManagers?.map { String($0.Addr.split(separator: ":").first ?? "") } ?? []
        if managerAddresses.isEmpty { managerAddresses = [first.node.ip.description] }
        let workers = outside.filter { $0.node.role == Node.Role.worker }
        let joinAddresses = managerAddresses
        if !workers.isEmpty { progress("joining \(workers.count) worker(s)") }
        let workerResults = Mutex<[(String, String?)]>([])
        let workersDone = DispatchSemaphore(value: 0)
        let parallel = self.parallel
        let workerThread = Thread {
          let results = FanOut.run(
            workers, parallel: parallel, skipped: { (item: Observed) -> (String, String?) in (item.node.name, "interrupted") }
          ) { (item: Observed) -> (String, String?) in
            do {
              try item.client?.swarmJoin(
                advertiseAddress: item.node.ip.description, managers: joinAddresses, token: tokens.Worker)
              return (item.node.name, nil)
            } catch {
              return (item.node.name, "join failed: \(error)")
            }
          }
          workerResults.withLock { $0 = results }
          workersDone.signal()
        }
        workerThread.start()
        for item in outside where item.node.role == Node.Role.manager {
          guard let docker = item.client else { continue }
          do {
            progress("\(item.node.name): joining as a manager")
            try docker.swarmJoin(advertiseAddress: item.node.ip.description, managers: managerAddresses, token: tokens.Manager)
            outcomes[item.node.name]?.actions.append("joined")
            managerAddresses.append(item.node.ip.description)
            joined = true
          } catch {
            outcomes[item.node.name]?.error = "join failed: \(error)"
          }
        }
        workersDone.wait()
        for (name, error) in workerResults.withLock({ $0 }) {
          if let error {
            outcomes[name]?.error = error
          } else {
            outcomes[name]?.actions.append("joined")
            joined = true
          }
        }
      } catch {
        for item in outside { outcomes[item.node.name]?.error = "cannot read the join tokens: \(error)" }
      }
    }

    // Each node's own swarm ID: from what was observed, or, for nodes that just joined, asked
    // again (a joining node shows in the manager's list without its address for a moment).
    var nodeIDs: [String: String] = [:]
    for item in usable {
      if let id = item.info?.Swarm.NodeID, !id.isEmpty, item.info?.Swarm.LocalNodeState == "active" {
        nodeIDs[item.node.name] = id
      }
    }
    for item in usable where outcomes[item.node.name]?.actions.contains(where: { $0 == "joined" || $0 == "initialized" }) == true
    {
      if let id = try? item.client?.info().Swarm.NodeID, !id.isEmpty { nodeIDs[item.node.name] = id }
    }

    // Roles and labels, through a manager: read each node, write back only what differs.
    do {
      let swarmNodes = try leader.nodes()
      let byID = Dictionary(swarmNodes.map { ($0.ID, $0) }, uniquingKeysWith: { first, _ in first })
      var byAddress: [String: SwarmNode] = [:]
      for node in swarmNodes {
        // A node that rejoined leaves its old entry behind as down: prefer the ready one.
        guard let address = node.Status.Addr else { continue }
        if byAddress[address]?.Status.State != "ready" { byAddress[address] = node }
      }
      // Role changes one at a time (they move raft membership); label-only updates in parallel.
      var roleChanges: [(Node, SwarmNode, SwarmNode.NodeSpec)] = []
      var labelChanges: [(Node, SwarmNode, SwarmNode.NodeSpec)] = []
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        guard let current = nodeIDs[node.name].flatMap({ byID[$0] }) ?? byAddress[node.ip.description] else {
          outcomes[node.name]?.error = "not found in the swarm's node list after joining"
          continue
        }
        var spec = current.Spec
        let desiredRole = node.role.rawValue
        var roleChanged = false
        if spec.Role != desiredRole {
          spec.Role = desiredRole
          roleChanged = true
          outcomes[node.name]?.actions.append(desiredRole == "manager" ? "promoted" : "demoted")
        }
        var labels = spec.Labels ?? [:]
        for (key, value) in Self.labels(for: node, in: cluster) where labels[key] != value { labels[key] = value }
        if labels != (spec.Labels ?? [:]) {
          spec.Labels = labels
          outcomes[node.name]?.actions.append("labels")
        }
        if roleChanged {
          roleChanges.append((node, current, spec))
        } else if spec != current.Spec {
          labelChanges.append((node, current, spec))
        }
      }
      for (node, current, spec) in roleChanges {
        do { try leader.updateNode(current.ID) { $0 = Self.merged($0, with: spec) } } catch {
          outcomes[node.name]?.error = "node update failed: \(error)"
        }
      }
      let labelResults = FanOut.run(
        labelChanges, parallel: parallel,
        skipped: { (change: (Node, SwarmNode, SwarmNode.NodeSpec)) -> (String, String?) in (change.0.name, "interrupted") }
      ) { (change: (Node, SwarmNode, SwarmNode.NodeSpec)) -> (String, String?) in
        do {
          try leader.updateNode(change.1.ID) { $0 = Self.merged($0, with: change.2) }
          return (change.0.name, nil)
        } catch {
          return (change.0.name, "node update failed: \(error)")
        }
      }
      for (name, error) in labelResults where error != nil { outcomes[name]?.error = error }
      // A node that rejoined under a new ID (tmpfs storage after a reboot, a reinstalled node)
      // leaves its old entry behind as down: remove old worker entries at its address.
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        guard let currentID = nodeIDs[node.name] else { continue }
        for stale in Self.staleEntries(swarmNodes, address: node.ip.description, currentID: currentID) {
          do {
            try leader.removeNode(stale.ID)
            outcomes[node.name]?.actions.append("removed stale entry \(stale.ID.prefix(12))")
          } catch {
            progress("\(node.name): cannot remove its stale swarm entry \(stale.ID.prefix(12)): \(error)")
          }
        }
      }
      if joined {
        try leader.rotateJoinTokens()
        progress("rotated the join tokens")
      }
    } catch {
      progress("cannot apply roles and labels: \(error)")
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        outcomes[node.name]?.error = "roles and labels: \(error)"
      }
    }
    waitUntilReady(leader, &outcomes, nodeIDs: nodeIDs)
    for name in outcomes.keys where outcomes[name]?.actions.isEmpty == true && outcomes[name]?.error == nil {
      outcomes[name]?.actions = ["unchanged"]
    }
    return cluster.nodes.compactMap { outcomes[$0.name] }
  }

  /// A node whose dockerd just restarted is back in its swarm at once, but the managers see it
  /// Ready only after its next heartbeat: wait for that (at most `readyTimeout`), so that the
  /// run ends with the swarm as cluster.yml says, or says which node is not.
  func waitUntilReady(_ leader: DockerClient, _ outcomes: inout [String: Outcome], nodeIDs: [String: String]) {
    let deadline = Date().addingTimeInterval(readyTimeout)
    var waiting: [String: String] = [:]
    while true {
      guard let swarmNodes = try? leader.nodes() else { return }
      let states = Dictionary(swarmNodes.map { ($0.ID, $0.Status.State) }, uniquingKeysWith: { first, _ in first })
      waiting = [:]
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        guard let id = nodeIDs[node.name], let state = states[id], state != "ready" else { continue }
        waiting[node.name] = state
      }
      if waiting.isEmpty || Date() > deadline || Cancellation.isCancelled { break }
      usleep(250_000)
    }
    for (name, state) in waiting {
      outcomes[name]?.error = "the swarm still sees it as \(state) \(Int(readyTimeout)) s after up; see 'piswarm status'"
    }
  }
}
