import Foundation
import PiSwarmCore
import PiSwarmSSH
import Synchronization

/// Brings running dockerds to the swarm `cluster.yml` describes: init on the first manager with
/// an explicit advertise address, the other managers join one at a time, workers in parallel,
/// roles and labels applied (read, modify, write), join tokens rotated whenever one was sent.
/// Nodes already in this swarm are left alone; a node in another swarm is an error with advice.
///
/// A node is known by the managers' view of it (the entry at its address in the swarm's node
/// list), never by what it says about itself. Before a join token goes to any node, `memory`
/// records that a rotation is owed; a run that finds one owed rotates, so an interrupted or
/// failed run never leaves a sent token valid. With `swarm.autolock`, the unlock key is kept in
/// `memory` and locked managers are unlocked before anything else is done with them.
public struct SwarmConvergence: Sendable {
  public struct Outcome: Sendable, Codable, Equatable {
    public var node: String
    public var role: String
    /// What was done: `unchanged`, `unlocked`, `initialized`, `joined`, `promoted`, `demoted`, `labels`,
    /// `enabled autolock`, `disabled autolock`, `rotated join tokens`, `removed stale entry …`.
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
  /// Where the owed token rotation and the unlock key are kept between runs.
  public var memory: any SwarmMemory = InMemorySwarmMemory()

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

  /// What a run starts from.
  struct Start {
    var observed: [Observed]
    var outcomes: [String: Outcome]
    /// The swarm that is ours: the one the desired managers are in.
    var clusterID: String?
    /// Some node is still locked (autolock): a swarm exists even when no manager shows it.
    var locked: Bool
  }

  /// Every node read at once; locked managers unlocked with the kept key (`unlocking`), or
  /// marked to be; the swarm that is ours; nodes in another swarm marked as failed.
  func observe(unlocking: Bool) -> Start {
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

    // Locked managers (autolock, after a restart) first: nothing else is done with them before.
    for index in observed.indices where observed[index].info?.Swarm.LocalNodeState == "locked" {
      let name = observed[index].node.name
      let byHand =
        "on \(name), run 'docker swarm unlock' and give it the key 'docker swarm unlock-key' shows on an unlocked manager"
      let key: String?
      do { key = try memory.unlockKey() } catch {
        outcomes[name]?.error =
          "\(name) is locked (swarm autolock) and the state store cannot be read for its unlock key: \(error)"
        observed[index].client = nil
        continue
      }
      guard let key, !key.isEmpty else {
        outcomes[name]?.error = "\(name) is locked (swarm autolock) and piswarm keeps no unlock key for this swarm; \(byHand)"
        observed[index].client = nil
        continue
      }
      guard unlocking, let docker = observed[index].client else {
        outcomes[name]?.actions.append("unlock")
        observed[index].client = nil
        continue
      }
      do {
        progress("\(name): unlocking its swarm state (autolock)")
        try docker.unlock(key: key)
        observed[index].info = try docker.info()
        outcomes[name]?.actions.append("unlocked")
      } catch {
        outcomes[name]?.error =
          "\(name) is locked (swarm autolock) and the unlock key piswarm keeps did not unlock it: \(error); \(byHand)"
        observed[index].client = nil
      }
    }
    let locked = observed.contains { $0.info?.Swarm.LocalNodeState == "locked" }

    // Which swarm is ours: the one the desired managers are in (the first one found).
    let managersFirst =
      observed.filter { $0.node.role == Node.Role.manager } + observed.filter { $0.node.role == Node.Role.worker }
    let clusterID = managersFirst.first {
      $0.client != nil && $0.info?.Swarm.LocalNodeState == "active" && $0.info?.Swarm.ControlAvailable == true
    }?
    .info?.Swarm.Cluster?.ID
    for index in observed.indices where observed[index].client != nil {
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

    return Start(observed: observed, outcomes: outcomes, clusterID: clusterID, locked: locked)
  }

  /// The node through which the swarm is changed: one in our swarm that can (a desired manager
  /// first).
  static func leader(_ observed: [Observed], clusterID: String?) -> Observed? {
    guard let clusterID else { return nil }
    let ordered = observed.filter { $0.node.role == Node.Role.manager } + observed.filter { $0.node.role == Node.Role.worker }
    return ordered.first {
      $0.client != nil && $0.info?.Swarm.ControlAvailable == true && $0.info?.Swarm.Cluster?.ID == clusterID
    }
  }

  /// How the managers know a node.
  public enum Identity: Equatable, Sendable {
    /// Its entry in the swarm's node list.
    case known(SwarmNode)
    /// Not (yet) in the list at its address.
    case missing
    /// The node says it is `claimed`, an entry the managers know at another address.
    case disputed(claimed: SwarmNode, atAddress: [String])
  }

  /// The swarm's entry for `node` by the managers' view: an entry at the node's address (its
  /// Status.Addr, or a manager's ManagerStatus.Addr), the ready one first when a rejoined node
  /// left a down one behind. The ID the node reports itself (`claimed`) only picks among
  /// those: a node never speaks for a node at another address.
  public static func identity(of node: Node, claimed: String?, in swarmNodes: [SwarmNode]) -> Identity {
    let address = node.ip.description
    let here = swarmNodes.filter { entry in
      entry.Status.Addr == address || entry.ManagerStatus?.Addr.map { String($0.split(separator: ":").first ?? "") } == address
    }
    if let claimed, !claimed.isEmpty {
      if let entry = here.first(where: { $0.ID == claimed }) { return .known(entry) }
      // A node that just joined shows without its address for a moment.
      guard let listed = swarmNodes.first(where: { $0.ID == claimed }), let elsewhere = listed.Status.Addr,
        !elsewhere.isEmpty, elsewhere != "0.0.0.0"
      else { return .missing }
      return .disputed(claimed: listed, atAddress: here.map(\.ID))
    }
    guard let entry = here.first(where: { $0.Status.State == "ready" }) ?? here.first else { return .missing }
    return .known(entry)
  }

  static func disputed(_ node: Node, _ claimed: SwarmNode, _ here: [String]) -> String {
    let known =
      here.isEmpty
      ? "and know no node at \(node.ip)" : "and know \(node.ip) as \(here.map { String($0.prefix(12)) }.joined(separator: ", "))"
    return "\(node.name) (\(node.ip)) says it is swarm node \(claimed.ID.prefix(12)), which the managers know at "
      + "\(claimed.Status.Addr ?? "?") \(known): its word is not taken and nothing is changed for it; check its address in "
      + "cluster.yml and that the machine at \(node.ip) is \(node.name)"
  }

  static func labelAction(_ missing: [String: String]) -> String {
    "label " + missing.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
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
    let start = observe(unlocking: false)
    var outcomes = start.outcomes
    let usable = start.observed.filter { $0.client != nil }
    let outside = usable.filter { ($0.info?.Swarm.LocalNodeState ?? "inactive") == "inactive" }
    let leader = Self.leader(start.observed, clusterID: start.clusterID)
    var changer = leader?.node.name
    if start.clusterID == nil, !start.locked, let first = usable.first(where: { $0.node.role == Node.Role.manager }) {
      outcomes[first.node.name]?.actions.append("init")
      changer = first.node.name
    }
    for item in outside where outcomes[item.node.name]?.actions.isEmpty == true {
      outcomes[item.node.name]?.actions.append("join as \(item.node.role.rawValue)")
      let missing = Self.labels(for: item.node, in: cluster)
      if !missing.isEmpty { outcomes[item.node.name]?.actions.append(Self.labelAction(missing)) }
    }
    if let leader, let swarmNodes = try? leader.client?.nodes() {
      for item in usable where outcomes[item.node.name]?.error == nil && item.info?.Swarm.LocalNodeState == "active" {
        let node = item.node
        switch Self.identity(of: node, claimed: item.info?.Swarm.NodeID, in: swarmNodes) {
        case .known(let current) where current.Status.State == "ready":
          if current.Spec.Role != node.role.rawValue {
            outcomes[node.name]?.actions.append(node.role == .manager ? "promote" : "demote")
          }
          let labels = current.Spec.Labels ?? [:]
          let missing = Self.labels(for: node, in: cluster).filter { labels[$0.key] != $0.value }
          if !missing.isEmpty { outcomes[node.name]?.actions.append(Self.labelAction(missing)) }
        case .disputed(let claimed, let here):
          outcomes[node.name]?.error = Self.disputed(node, claimed, here)
        default:
          continue
        }
      }
    }
    if let changer, leader != nil || !start.locked {
      let current = (try? leader?.client?.swarmInspect())?.autolock ?? false
      if current != cluster.swarm.autolock {
        outcomes[changer]?.actions.append(cluster.swarm.autolock ? "enable autolock" : "disable autolock")
      }
      let owed = (try? memory.rotationOwed()) ?? false
      if owed || outside.contains(where: { outcomes[$0.node.name]?.error == nil }) {
        outcomes[changer]?.actions.append("rotate join tokens")
      }
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
    let start = observe(unlocking: true)
    let observed = start.observed
    var outcomes = start.outcomes
    var clusterID = start.clusterID
    for (name, reason) in excluded where outcomes[name]?.error == nil { outcomes[name]?.error = reason }
    // Tokens an earlier run sent and did not get to rotate (it failed or was killed).
    var owed = false
    do { owed = try memory.rotationOwed() } catch { progress("cannot read the state store: \(error)") }
    // Init on the first reachable manager when there is no swarm (never on an excluded one).
    let usable = observed.filter { $0.client != nil }
    let managers = usable.filter { $0.node.role == Node.Role.manager }
    if clusterID == nil && start.locked {
      for manager in cluster.managers where outcomes[manager.name]?.error == nil {
        outcomes[manager.name]?.error =
          "no manager of the swarm could be unlocked (see the locked ones), so the swarm cannot be changed"
      }
      return cluster.nodes.compactMap { outcomes[$0.name] }
    }
    guard
      let first = managers.first(where: { outcomes[$0.node.name]?.error == nil }) ?? (clusterID != nil ? managers.first : nil)
    else {
      for manager in cluster.managers where outcomes[manager.name]?.error == nil {
        outcomes[manager.name]?.error = "no manager is reachable, so the swarm cannot be formed or changed"
      }
      return cluster.nodes.compactMap { outcomes[$0.name] }
    }
    var leaderClient = Self.leader(observed, clusterID: clusterID)?.client
    var leaderName = Self.leader(observed, clusterID: clusterID)?.node.name ?? first.node.name
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
        leaderName = first.node.name
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
    var sent = false
    if !outside.isEmpty {
      // Recorded before any token leaves: a run that dies from here on leaves the rotation owed.
      do {
        try memory.setRotationOwed(true)
        sent = true
      } catch {
        for item in outside {
          outcomes[item.node.name]?.error =
            "not joined: the state store cannot record that join tokens go out, so they could not be rotated for sure: \(error)"
        }
      }
    }
    if sent {
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
          if Cancellation.isCancelled {
            outcomes[item.node.name]?.error = "interrupted"
            continue
          }
          do {
            progress("\(item.node.name): joining as a manager")
            try docker.swarmJoin(advertiseAddress: item.node.ip.description, managers: managerAddresses, token: tokens.Manager)
            outcomes[item.node.name]?.actions.append("joined")
            managerAddresses.append(item.node.ip.description)
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
          }
        }
      } catch {
        for item in outside { outcomes[item.node.name]?.error = "cannot read the join tokens: \(error)" }
      }
    }

    // What each node says its swarm ID is: from what was observed, or, for nodes that just
    // joined, asked again. Only a hint: the managers' view decides (see `identity`).
    var claimed: [String: String] = [:]
    for item in usable {
      if let id = item.info?.Swarm.NodeID, !id.isEmpty, item.info?.Swarm.LocalNodeState == "active" {
        claimed[item.node.name] = id
      }
    }
    let fresh = Set(
      usable.filter { outcomes[$0.node.name]?.actions.contains(where: { $0 == "joined" || $0 == "initialized" }) == true }
        .map(\.node.name))
    for item in usable where fresh.contains(item.node.name) {
      if let id = try? item.client?.info().Swarm.NodeID, !id.isEmpty { claimed[item.node.name] = id }
    }

    // Roles and labels, through a manager: read each node, write back only what differs.
    var entries: [String: SwarmNode] = [:]
    do {
      // Each node's entry, by the managers' view; a node that just joined may show without its
      // address for a moment, so it is asked again for a while.
      var swarmNodes: [SwarmNode] = []
      let deadline = Date().addingTimeInterval(readyTimeout)
      while true {
        swarmNodes = try leader.nodes()
        var pending: [Node] = []
        for node in cluster.nodes where outcomes[node.name]?.error == nil {
          switch Self.identity(of: node, claimed: claimed[node.name], in: swarmNodes) {
          case .known(let entry): entries[node.name] = entry
          case .missing: pending.append(node)
          case .disputed(let other, let here): outcomes[node.name]?.error = Self.disputed(node, other, here)
          }
        }
        if pending.isEmpty || !pending.contains(where: { fresh.contains($0.name) }) || Date() > deadline
          || Cancellation.isCancelled
        {
          for node in pending {
            outcomes[node.name]?.error = "not found at its address \(node.ip) in the swarm's node list"
          }
          break
        }
        usleep(250_000)
      }
      // Role changes one at a time (they move raft membership); label-only updates in parallel.
      var roleChanges: [(Node, SwarmNode, SwarmNode.NodeSpec)] = []
      var labelChanges: [(Node, SwarmNode, SwarmNode.NodeSpec)] = []
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        guard let current = entries[node.name] else { continue }
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
        guard let currentID = entries[node.name]?.ID else { continue }
        for stale in Self.staleEntries(swarmNodes, address: node.ip.description, currentID: currentID) {
          do {
            try leader.removeNode(stale.ID)
            outcomes[node.name]?.actions.append("removed stale entry \(stale.ID.prefix(12))")
          } catch {
            progress("\(node.name): cannot remove its stale swarm entry \(stale.ID.prefix(12)): \(error)")
          }
        }
      }
    } catch {
      progress("cannot apply roles and labels: \(error)")
      for node in cluster.nodes where outcomes[node.name]?.error == nil {
        outcomes[node.name]?.error = "roles and labels: \(error)"
      }
    }
    applyAutolock(leader, leaderName, &outcomes)
    // Tokens sent in this run (joined or not) or in an earlier one that did not get to rotate
    // them: rotated, so a token that went out never stays valid.
    if sent || owed {
      do {
        try leader.rotateJoinTokens()
        outcomes[leaderName]?.actions.append("rotated join tokens")
        progress("rotated the join tokens")
        do { try memory.setRotationOwed(false) } catch {
          progress(
            "warning: the state store cannot record that the join tokens were rotated (the next run rotates them again): \(error)"
          )
        }
      } catch {
        outcomes[leaderName]?.error =
          "join tokens were sent and could not be rotated: \(error); the next 'piswarm up' rotates them"
      }
    }
    waitUntilReady(leader, &outcomes, nodeIDs: entries.mapValues(\.ID))
    for name in outcomes.keys where outcomes[name]?.actions.isEmpty == true && outcomes[name]?.error == nil {
      outcomes[name]?.actions = ["unchanged"]
    }
    return cluster.nodes.compactMap { outcomes[$0.name] }
  }

  /// Autolock as cluster.yml says. With it on, the swarm's unlock key is kept in `memory` (read
  /// again each run, so a key rotated by hand is kept too); with it off, the key is forgotten
  /// once every manager was seen unlocked (a manager that was down still needs the old key).
  func applyAutolock(_ leader: DockerClient, _ name: String, _ outcomes: inout [String: Outcome]) {
    let wanted = cluster.swarm.autolock
    do {
      if try leader.swarmInspect().autolock != wanted {
        progress(wanted ? "enabling swarm autolock" : "disabling swarm autolock")
        try leader.setAutolock(wanted)
        outcomes[name]?.actions.append(wanted ? "enabled autolock" : "disabled autolock")
      }
    } catch {
      outcomes[name]?.error = "cannot \(wanted ? "enable" : "disable") swarm autolock: \(error)"
      return
    }
    do {
      let kept = try memory.unlockKey()
      if wanted {
        let key = try leader.unlockKey()
        guard !key.isEmpty else { throw PiSwarmError(.system, "the swarm answered no unlock key") }
        if kept != key { try memory.setUnlockKey(key) }
      } else if kept != nil, cluster.managers.allSatisfy({ outcomes[$0.name]?.error == nil }) {
        try memory.setUnlockKey(nil)
      }
    } catch {
      outcomes[name]?.error =
        wanted
        ? "swarm autolock is on and its unlock key could not be kept: \(error); 'docker swarm unlock-key' on a manager shows it, and the next 'piswarm up' tries again"
        : "cannot forget the old unlock key: \(error)"
    }
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
