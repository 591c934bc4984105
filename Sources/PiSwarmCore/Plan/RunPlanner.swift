/// `up`'s decisions, purely: what was observed and `cluster.yml` in, the ordered actions out.
/// `plan` prints exactly this list and `up` runs exactly it.
///
/// The order: netboot first (each netboot node's root, the head's netboot files, the restarts
/// they owe: before any node is switched on); nodes left alone (with why); NAT on the head (`head.nat`); the head's registry services (before any node's
/// Docker setup, which installs the CA the registry action makes); locked managers unlocked (before anything else is
/// done with them); Docker's setup (in parallel, except managers whose dockerd stops: one at a
/// time, the swarm's leader last, so quorum holds); swarm init on the first manager when there
/// is no swarm; joins (managers one at a time, workers in parallel); promote and demote (one at
/// a time); labels; stale entries removed; autolock; join tokens rotated whenever one was sent
/// (or an earlier run owes it).
///
/// A node is known by the managers' view of it (its address in the swarm's node list), never by
/// its own word. Nodes whose Docker setup cannot be done are observed but not changed: they
/// still show which swarm is ours, so a fresh manager never starts a second one.
public enum RunPlanner {
  public static func plan(_ observed: RunObservation, cluster: Cluster) -> RunPlan {
    let findings = cluster.nodes.flatMap { observed.nodes[$0.name]?.findings ?? [] }
    var plan = RunPlan(findings: findings)
    guard !plan.blocked else { return plan }
    // Nodes that are off (unreachable, with a power driver) are switched on first; the rest is
    // planned once they are up, from what is read from them then.
    let cold = cluster.nodes.filter { node in
      observed.nodes[node.name]?.unreachable != nil && node.power.driver != PowerConfig.none.driver
        && observed.bootFailed[node.name] == nil
    }
    let netboot = netboot(observed, cluster: cluster)
    if !cold.isEmpty {
      let left = cluster.nodes.compactMap { node -> RunAction? in
        guard let reason = observed.nodes[node.name]?.unreachable, !cold.contains(node) else { return nil }
        return .refuse(node: node.name, reason: unreachable(node, reason, observed))
      }
      // The head's own services need no node: they are done in this round too (an `up --only
      // registry` while some nodes are off does what it says instead of nothing).
      var head = Planner(observed: observed, cluster: cluster)
      let services = head.nat() + head.headRegistry()
      plan.actions =
        netboot + head.refusals() + services + left + cold.map { .powerOn(node: $0) } + cold.map { .waitBoot(node: $0) }
      plan.bootsFirst = true
      return plan
    }
    var planner = Planner(observed: observed, cluster: cluster)
    planner.run()
    plan.actions = netboot + planner.refusals() + planner.actions + stacks(observed, cluster: cluster)
    if !planner.starting.isEmpty {
      // Engines first: the swarm's and the stacks' actions wait for a new observation, once
      // the dockerds this round starts answer (a stack deployed now would wait for nodes that
      // are not in the swarm yet).
      plan.actions = plan.actions.filter(\.isBeforeTheSwarm)
      plan.startsEnginesFirst = true
    }
    plan.unlocksFirst = planner.unlocksFirst
    plan.via = observed.swarm?.via
    return plan
  }

  /// Why a node that could not be reached is left alone.
  static func unreachable(_ node: Node, _ reason: String, _ observed: RunObservation) -> String {
    if let failed = observed.bootFailed[node.name] { return "did not come up after it was powered on: \(failed)" }
    if node.power.driver == PowerConfig.none.driver {
      return "cannot be reached: \(reason); it has power: none, so piswarm cannot switch it on: "
        + "power it on by hand, or give it a power driver in cluster.yml (see docs/power.md)"
    }
    return "cannot be reached: \(reason)"
  }

  /// The node whose dockerd speaks for our swarm: the first one that is an active manager with
  /// control, desired managers first. The observer asks it for the swarm's view.
  public static func swarmSource(_ nodes: [String: NodeObservation], cluster: Cluster) -> (node: Node, clusterID: String)? {
    for node in cluster.managers + cluster.workers {
      guard let swarm = nodes[node.name]?.swarm, swarm.state == .active, swarm.controlAvailable, let id = swarm.clusterID
      else { continue }
      return (node, id)
    }
    return nil
  }

  /// The stacks of `stacks:` to deploy, in the file's order, after everything else: a stack
  /// whose services all carry its configuration's hash is left alone.
  static func stacks(_ observed: RunObservation, cluster: Cluster) -> [RunAction] {
    cluster.stacks.compactMap { stack in
      guard let seen = observed.stacks[stack.name] else {
        return .refuseStack(name: stack.name, reason: "its compose files were not read")
      }
      if let error = seen.error { return .refuseStack(name: stack.name, reason: error) }
      guard let config = seen.config else { return .refuseStack(name: stack.name, reason: "its compose files were not read") }
      let deployed = seen.deployed ?? [:]
      if config.isDeployed(deployed) { return nil }
      return .deployStack(name: stack.name, new: deployed.isEmpty)
    }
  }

  /// The labels piswarm puts on a node: swarm.labels, then the node's own.
  public static func labels(for node: Node, in cluster: Cluster) -> [String: String] {
    cluster.swarm.labels.merging(node.labels) { $1 }
  }
}

/// One planning pass; its state is the decisions so far.
private struct Planner {
  let observed: RunObservation
  let cluster: Cluster
  var actions: [RunAction] = []
  /// Nodes left alone, with why (the first reason wins).
  var refused: [String: String] = [:]
  /// Nodes whose dockerd is down and whose Docker setup starts it: their swarm is planned on
  /// the next run.
  var starting: Set<String> = []
  var unlocksFirst = false
  /// The head's registry action, or why it cannot be done.
  var registry: RunAction?
  /// The cluster CA nodes get: nil when it is still to be made (or was not read).
  var registryCA: String?
  /// Why the head's NAT is left alone.
  var natRefusal: RunAction?

  init(observed: RunObservation, cluster: Cluster) {
    self.observed = observed
    self.cluster = cluster
  }

  func refusals() -> [RunAction] {
    var head: [RunAction] = []
    if let natRefusal { head.append(natRefusal) }
    if case .refuse? = registry, let registry { head.append(registry) }
    return head + cluster.nodes.compactMap { node in refused[node.name].map { .refuse(node: node.name, reason: $0) } }
  }

  /// The head's registry: what to change there, and the CA the nodes get.
  mutating func headRegistry() -> [RunAction] {
    guard let seen = observed.registry else { return [] }
    do {
      let plan = try RegistryHead.plan(seen.state, cluster: cluster, paths: seen.paths)
      registryCA = plan.makeCA ? nil : seen.state.caCertificate
      registry = plan.isEmpty ? nil : .registry(plan: plan)
    } catch {
      registry = .refuse(node: "head", reason: error.description)
    }
    if case .registry? = registry, let registry { return [registry] }
    return []
  }

  /// NAT on the head as `head.nat` says; refused when the head's nft table cannot be read.
  mutating func nat() -> [RunAction] {
    if let error = observed.natError, cluster.head.nat != nil {
      natRefusal = .refuse(node: "head", reason: "head.nat is set and the head's NAT cannot be read: \(error)")
      return []
    }
    return observed.nat.flatMap { HeadNAT.plan($0, head: cluster.head) }.map { [.nat(plan: $0)] } ?? []
  }

  mutating func refuse(_ node: Node, _ reason: String) {
    if refused[node.name] == nil { refused[node.name] = reason }
  }

  mutating func run() {
    let head = nat() + headRegistry()
    let engines = dockerSetup()
    // Each node's swarm state: as read, or inactive once Docker is installed.
    var local: [String: LocalSwarm] = [:]
    for node in cluster.nodes where refused[node.name] == nil {
      if let swarm = observed.nodes[node.name]?.swarm {
        local[node.name] = swarm
      } else if engines[node.name]?.install == true {
        local[node.name] = LocalSwarm(state: .inactive)
      } else if engines[node.name]?.stopsDocker == true {
        // Its dockerd is down and its setup starts it again: its swarm state is read (and its
        // swarm changes planned) on the next run; the run still waits for it to be Ready.
        starting.insert(node.name)
        continue
      } else {
        refuse(node, "its Docker Engine API did not answer: \(observed.nodes[node.name]?.dockerError ?? "no answer")")
      }
    }
    let unlocks = unlock(local)
    swarm(local, unlocking: Set(unlocks))
    // A node left alone gets no action at all, not even its Docker setup.
    actions =
      head + unlocks.map { .unlock(node: $0) } + dockerActions(engines.filter { refused[$0.key] == nil }) + actions
  }

  /// Docker's setup per node; nodes that cannot be read or set up are refused.
  mutating func dockerSetup() -> [String: EngineSetup.Plan] {
    var plans: [String: EngineSetup.Plan] = [:]
    for node in cluster.nodes {
      let seen = observed.nodes[node.name]
      if let reason = seen?.unreachable {
        refuse(node, RunPlanner.unreachable(node, reason, observed))
        continue
      }
      guard let state = seen?.engine else {
        refuse(node, "cannot read Docker's setup: the node could not be reached")
        continue
      }
      do {
        plans[node.name] = try EngineSetup.plan(state, cluster: cluster, node: node, registryCA: registryCA)
      } catch {
        refuse(node, error.description)
      }
    }
    return plans
  }

  /// Workers and managers whose dockerd keeps running first (in parallel when run), then the
  /// managers whose dockerd stops, one at a time, the swarm's leader last (each restart of a
  /// leader costs an election).
  func dockerActions(_ plans: [String: EngineSetup.Plan]) -> [RunAction] {
    var together: [RunAction] = []
    var alone: [RunAction] = []
    var leaders: [RunAction] = []
    let leader = observed.swarm?.members.first { $0.leader }
    for node in cluster.nodes {
      guard let plan = plans[node.name], !plan.isEmpty else { continue }
      let action = RunAction.docker(node: node, plan: plan)
      if node.role == .manager && plan.stopsDocker {
        if let leader, leader.isAt(node.ip.description) { leaders.append(action) } else { alone.append(action) }
      } else {
        together.append(action)
      }
    }
    return together + alone + leaders
  }

  /// Locked nodes (autolock): unlocked first when a key is kept, else left alone with advice.
  mutating func unlock(_ local: [String: LocalSwarm]) -> [String] {
    var unlocks: [String] = []
    for node in cluster.nodes where local[node.name]?.state == .locked {
      let byHand =
        "on \(node.name), run 'docker swarm unlock' and give it the key 'docker swarm unlock-key' shows on an unlocked manager"
      switch observed.unlockKey {
      case .unreadable(let error):
        refuse(node, "\(node.name) is locked (swarm autolock) and the state store cannot be read for its unlock key: \(error)")
      case .none:
        refuse(node, "\(node.name) is locked (swarm autolock) and piswarm keeps no unlock key for this swarm; \(byHand)")
      case .kept:
        unlocks.append(node.name)
      }
    }
    return unlocks
  }

  mutating func swarm(_ local: [String: LocalSwarm], unlocking: Set<String>) {
    let view = observed.swarm
    let locked = cluster.nodes.contains { local[$0.name]?.state == .locked }
    if view == nil, locked {
      if unlocking.isEmpty {
        for manager in cluster.managers {
          refuse(manager, "no manager of the swarm could be unlocked (see the locked ones), so the swarm cannot be changed")
        }
      } else {
        // The swarm's view can be read only once its managers are unlocked.
        unlocksFirst = true
      }
      return
    }
    if view == nil, let error = observed.swarmError {
      for node in cluster.nodes { refuse(node, "cannot read the swarm's state: \(error)") }
      return
    }
    // Nodes in another swarm, or in a state that is not a member's: left alone, with advice.
    for node in cluster.nodes where refused[node.name] == nil {
      guard let swarm = local[node.name], swarm.state != .inactive, swarm.state != .locked else { continue }
      // Workers do not report their swarm: the managers' list says below.
      if swarm.state == .active, swarm.clusterID == nil { continue }
      if swarm.state != .active || (view != nil && swarm.clusterID != view?.clusterID) {
        let theirs = swarm.clusterID ?? swarm.nodeID ?? "?"
        refuse(
          node,
          "\(node.name) is \(swarm.state == .active ? "in another swarm (\(theirs.prefix(12)))" : "in swarm state \"\(swarm.state.rawValue)\""); "
            + "make it leave first: 'piswarm exec \(node.name) -- docker swarm leave --force' (this discards its swarm state)")
      }
    }
    // No swarm: init on the first manager that can; never beside a swarm that has managers.
    var initNode: Node?
    if view == nil {
      let stuck = cluster.nodes.filter { local[$0.name]?.state == .active && local[$0.name]?.clusterID != nil }
      guard stuck.isEmpty else {
        for node in stuck {
          refuse(
            node,
            "\(node.name) is a manager of a swarm that it cannot change (no quorum?); see 'piswarm exec \(node.name) -- docker node ls'"
          )
        }
        for manager in cluster.managers {
          refuse(manager, "no manager of the swarm can change it, so the swarm cannot be formed or changed")
        }
        return
      }
      guard let first = cluster.managers.first(where: { refused[$0.name] == nil && local[$0.name]?.state == .inactive }) else {
        // A manager whose setup starts its dockerd (a netbooted node's first run: dockerd waits
        // for the storage this run makes) gets that setup; the swarm is formed on the next run.
        for manager in cluster.managers where !starting.contains(manager.name) {
          refuse(manager, "no manager is reachable, so the swarm cannot be formed or changed")
        }
        return
      }
      initNode = first
      actions.append(.initSwarm(node: first.name))
    }
    let members = view?.members ?? []
    let outside = cluster.nodes.filter {
      refused[$0.name] == nil && local[$0.name]?.state == .inactive && $0.name != initNode?.name
    }
    let joining = outside.filter { $0.role == .manager } + outside.filter { $0.role == .worker }
    actions += joining.map { .join(node: $0.name, role: $0.role) }

    // Roles and labels of the members, by the managers' view.
    var roles: [RunAction] = []
    var labels: [RunAction] = []
    var stale: [RunAction] = []
    for node in cluster.nodes where refused[node.name] == nil {
      let desired = RunPlanner.labels(for: node, in: cluster)
      if node.name == initNode?.name || joining.contains(node) {
        if !desired.isEmpty { labels.append(.setLabels(node: node.name, labels: desired)) }
        stale += SwarmMember.staleEntries(members, address: node.ip.description, currentID: nil, sure: true).map {
          .removeStaleEntry(node: node.name, entry: $0.id)
        }
        continue
      }
      guard let swarm = local[node.name], swarm.state == .active || unlocking.contains(node.name) else { continue }
      switch SwarmMember.identity(of: node, claimed: swarm.nodeID, in: members) {
      case .known(let entry):
        if entry.role != node.role { roles.append(node.role == .manager ? .promote(node: node.name) : .demote(node: node.name)) }
        let missing = desired.filter { entry.labels[$0.key] != $0.value }
        if !missing.isEmpty { labels.append(.setLabels(node: node.name, labels: missing)) }
        let sure = swarm.nodeID == entry.id
        stale += SwarmMember.staleEntries(members, address: node.ip.description, currentID: entry.id, sure: sure).map {
          .removeStaleEntry(node: node.name, entry: $0.id)
        }
      case .disputed(let claimed, let here):
        refuse(node, SwarmMember.disputed(node, claimed, here))
      case .missing:
        refuse(
          node,
          view == nil
            ? "\(node.name) is in a swarm that no manager of cluster.yml is in; make it leave first: "
              + "'piswarm exec \(node.name) -- docker swarm leave --force' (this discards its swarm state)"
            : "not found at its address \(node.ip) in the swarm's node list")
      }
    }
    actions += roles + labels + stale

    // The swarm as a whole.
    let wanted = cluster.swarm.autolock
    let current = view?.autolock ?? false
    if current != wanted { actions.append(.setAutolock(wanted)) }
    if wanted, current, view?.keptKeyIsCurrent == false || observed.unlockKey != .kept { actions.append(.keepUnlockKey) }
    // A manager that was not seen unlocked may still need the old key.
    if !wanted, observed.unlockKey == .kept, cluster.managers.allSatisfy({ refused[$0.name] == nil }) {
      actions.append(.forgetUnlockKey)
    }
    if observed.rotationOwed || !joining.isEmpty { actions.append(.rotateJoinTokens) }
  }
}
