import Foundation
import PiSwarmCore
import PiSwarmSSH
import Synchronization

/// Runs a `RunPlan`'s actions, exactly those, in their order: Docker's setup in parallel except
/// managers whose dockerd stops (one at a time; after one fails, the others are not started, so
/// the swarm keeps its quorum), manager joins one at a time while workers join in parallel,
/// label updates in parallel. An action of a node whose earlier action did not succeed is
/// skipped, and says so. What exists only now is resolved now: the manager to go through, join
/// tokens (held in memory only, never printed), the managers' addresses, a node's entry.
///
/// Before a join token goes to any node, `memory` records that a rotation is owed; a run that
/// finds one owed rotates, so an interrupted or failed run never leaves a sent token valid.
public struct RunExecutor: Sendable {
  public struct Result: Sendable {
    public enum Status: String, Sendable, Codable {
      case done, failed, skipped, refused
    }

    public var action: RunAction
    public var status: Status
    public var error: String?
    /// What happened beside the action (a manager unlocked while its dockerd restarted).
    public var notes: [String] = []
    public var started: Date
    public var ended: Date
  }

  public struct Report: Sendable {
    /// One per action, in the plan's order.
    public var results: [Result]
    /// Nodes the swarm does not see Ready at the end, with what it sees.
    public var notReady: [String: String]
  }

  /// What applying Docker's setup on a node gave: an error, and notes.
  public typealias DockerApply = @Sendable (Node, EngineSetup.Plan) -> (error: String?, notes: [String])

  public let cluster: Cluster
  public let parallel: Int
  public let client: @Sendable (Node) -> DockerClient
  public let applyDocker: DockerApply
  public var memory: any SwarmMemory = InMemorySwarmMemory()
  public var progress: @Sendable (String) -> Void = { _ in }
  /// Sets up the head's registry services as planned; returns an error, or nil.
  public var applyRegistry: @Sendable (RegistryHead.Plan) -> String? = { _ in "the head's registry cannot be set up here" }
  /// Puts the head's NAT in place (or removes it) as planned; returns an error, or nil.
  public var applyNAT: @Sendable (HeadNAT.Plan) -> String? = { _ in "the head's NAT cannot be set up here" }
  /// How long the run waits for nodes to show in the swarm's list and Ready there.
  public var readyTimeout: Double = 30
  /// How long a join may take, dockerd's own wait (20 s) and the wait for a join it left
  /// running in the background together.
  public var joinTimeout: Double = 180
  /// Switches a node on through its power driver: nil, or why it could not.
  public var powerOn: @Sendable (Node) -> String? = { _ in "this run has no power control" }
  /// Waits until a node switched on has booted (power-cycling it when stuck): an error (the
  /// phase it stuck in), and notes.
  public var waitBoot: @Sendable (Node) -> (error: String?, notes: [String]) = { _ in ("this run has no power control", []) }
  /// Makes (or converges) a netboot node's root from the image: an error, and notes.
  public var netbootRoot: @Sendable (Node, String) -> (error: String?, notes: [String]) = { _, _ in
    ("this run cannot make node roots", [])
  }
  /// Writes the netboot files on the head, restarting nothing (the restarts they owe are actions
  /// of their own): an error, and notes.
  public var netbootFiles: @Sendable () -> (error: String?, notes: [String]) = { ("this run cannot write netboot files", []) }
  /// Restarts (or reloads) a service on the head whose netboot files changed: nil, or why not.
  public var netbootRestart: @Sendable (NetbootRestart) -> String? = { _ in "this run cannot restart services" }
  /// Deploys a stack of `stacks:` by name (through the docker CLI, which this module does not
  /// run) and waits for it; the error, and notes. Nil: stacks cannot be deployed by this run.
  public var deployStack: (@Sendable (String) -> (error: String?, notes: [String]))?

  public init(
    cluster: Cluster, parallel: Int, client: @escaping @Sendable (Node) -> DockerClient, applyDocker: @escaping DockerApply
  ) {
    self.cluster = cluster
    self.parallel = parallel
    self.client = client
    self.applyDocker = applyDocker
  }

  public func execute(_ plan: RunPlan) -> Report {
    // Stacks go last, once the nodes are Ready: their tasks need the nodes.
    let actions = plan.actions.filter { RunExecution.phase($0) != .stacks }
    var run = RunExecution(executor: self, via: plan.via)
    var index = 0
    while index < actions.count {
      let phase = RunExecution.phase(actions[index])
      var end = index + 1
      while end < actions.count, RunExecution.phase(actions[end]) == phase { end += 1 }
      run.phase(Array(actions[index..<end]))
      index = end
    }
    // After power actions only, or Docker's setup starting engines, the swarm is read again
    // by the next round (which waits for Ready).
    if plan.bootsFirst || plan.startsEnginesFirst { return Report(results: run.results, notReady: [:]) }
    let notReady = run.waitUntilReady()
    for action in plan.actions where RunExecution.phase(action) == .stacks { run.stack(action) }
    return Report(results: run.results, notReady: notReady)
  }
}

/// One execution: the results so far and what was resolved. The swarm's own phases (joins,
/// single actions, what is resolved through a manager) are in RunExecution+Swarm.swift.
struct RunExecution {
  let executor: RunExecutor
  var results: [RunExecutor.Result] = []
  /// Nodes with an action that did not succeed, and which.
  var failed: [String: String] = [:]
  /// Why swarm actions cannot run at all (init failed).
  var swarmBlocked: String?
  var leader: (node: Node, client: DockerClient)?
  /// The node the swarm was observed through.
  let via: String?
  var cluster: Cluster { executor.cluster }

  init(executor: RunExecutor, via: String?) {
    self.executor = executor
    self.via = via
  }

  enum Phase: Equatable {
    case refuse, netboot, powerOn, waitBoot, registry, nat, unlock, docker, initSwarm, join, roles, labels, stale, swarm, stacks
  }

  static func phase(_ action: RunAction) -> Phase {
    switch action {
    case .refuse, .refuseNetboot: .refuse
    case .netbootRoot, .netbootFiles, .netbootRestart: .netboot
    case .powerOn: .powerOn
    case .waitBoot: .waitBoot
    case .registry: .registry
    case .nat: .nat
    case .deployStack, .refuseStack: .stacks
    case .unlock: .unlock
    case .docker: .docker
    case .initSwarm: .initSwarm
    case .join: .join
    case .promote, .demote: .roles
    case .setLabels: .labels
    case .removeStaleEntry: .stale
    case .setAutolock, .keepUnlockKey, .forgetUnlockKey, .rotateJoinTokens: .swarm
    }
  }

  func node(_ name: String) -> Node? { cluster.node(named: name) }

  /// Why the action cannot run now, or nil.
  func blocker(_ action: RunAction) -> String? {
    if Cancellation.isCancelled { return "interrupted before it started" }
    if let name = action.node, let earlier = failed[name] { return "not started: \(earlier) did not succeed" }
    if action.step == "swarm" || action.step == "stack", let swarmBlocked { return "not started: \(swarmBlocked)" }
    if case .forgetUnlockKey = action, let manager = cluster.managers.first(where: { failed[$0.name] != nil }) {
      return "not started: \(manager.name) was not seen unlocked and may still need the old key"
    }
    return nil
  }

  mutating func record(_ action: RunAction, _ started: Date, error: String?, notes: [String] = []) {
    let status: RunExecutor.Result.Status
    if action.isRefusal {
      status = .refused
    } else {
      status = error == nil ? .done : .failed
    }
    if error != nil, let name = action.node, failed[name] == nil { failed[name] = action.id }
    results.append(
      RunExecutor.Result(action: action, status: status, error: error, notes: notes, started: started, ended: Date()))
  }

  mutating func skip(_ action: RunAction, _ reason: String) {
    if let name = action.node, failed[name] == nil { failed[name] = action.id }
    results.append(RunExecutor.Result(action: action, status: .skipped, error: reason, started: Date(), ended: Date()))
  }

  /// Runs `body` for each action not blocked, `parallel` at a time, recording in the plan's order.
  mutating func together(_ actions: [RunAction], _ body: @escaping @Sendable (RunAction) -> (String?, [String])) {
    let blockers = actions.map { blocker($0) }
    let runnable = zip(actions, blockers).filter { $0.1 == nil }.map(\.0)
    let started = Date()
    let outcomes = FanOut.run(
      runnable, parallel: executor.parallel, skipped: { _ in ("interrupted before it started", []) }, body)
    var next = outcomes.makeIterator()
    for (action, blocker) in zip(actions, blockers) {
      if let blocker {
        skip(action, blocker)
      } else if let (error, notes) = next.next() {
        record(action, started, error: error, notes: notes)
      }
    }
  }

  mutating func phase(_ actions: [RunAction]) {
    switch Self.phase(actions[0]) {
    case .refuse:
      for action in actions {
        switch action {
        case .refuse(_, let reason), .refuseNetboot(_, let reason): record(action, Date(), error: reason)
        default: break
        }
      }
    case .netboot: netboot(actions)
    case .powerOn:
      let powerOn = executor.powerOn
      together(actions) { action in
        guard case .powerOn(let node) = action else { return ("not a power action", []) }
        return (powerOn(node), [])
      }
    case .waitBoot:
      let waitBoot = executor.waitBoot
      together(actions) { action in
        guard case .waitBoot(let node) = action else { return ("not a boot wait", []) }
        return waitBoot(node)
      }
    case .unlock: for action in actions { one(action) }
    case .registry, .nat: for action in actions { one(action) }
    case .docker: docker(actions)
    case .join: join(actions)
    case .labels:
      let leader = leaderClient()
      let entries = leader.map { resolve(actions, leader: $0) } ?? [:]
      together(actions) { action in
        guard case .setLabels(let name, let labels) = action else { return ("not a label action", []) }
        guard let leader else { return ("no manager of the swarm answers", []) }
        do {
          let entry = try (entries[name] ?? .failure(PiSwarmError(.system, "not looked up"))).get()
          try leader.client.updateNode(entry.id) { spec in
            var merged = spec.Labels ?? [:]
            for (key, value) in labels { merged[key] = value }
            spec.Labels = merged
          }
          return (nil, [])
        } catch {
          return ("node update failed: \(error)", [])
        }
      }
    case .roles:
      let entries = leaderClient().map { resolve(actions, leader: $0) } ?? [:]
      for action in actions {
        guard let name = action.node, let node = node(name) else { continue }
        if let blocker = blocker(action) {
          skip(action, blocker)
          continue
        }
        let started = Date()
        var error: String?
        do {
          guard let leader = leaderClient() else { throw PiSwarmError(.system, "no manager of the swarm answers") }
          let entry = try (entries[name] ?? .failure(PiSwarmError(.system, "not looked up"))).get()
          try leader.client.updateNode(entry.id) { $0.Role = node.role }
        } catch let failure {
          error = "node update failed: \(failure)"
        }
        record(action, started, error: error)
      }
    case .initSwarm, .stale, .swarm: for action in actions { one(action) }
    case .stacks: for action in actions { stack(action) }
    }
  }

  /// Netboot, one action at a time in the plan's order (roots share their image's base): the
  /// roots, the files, then the restarts, which are skipped when the files were not written.
  mutating func netboot(_ actions: [RunAction]) {
    var filesFailed: String?
    for action in actions {
      if let blocker = blocker(action) {
        skip(action, blocker)
        continue
      }
      let started = Date()
      switch action {
      case .netbootRoot(let node, let image, _):
        executor.progress("\(node.name): root from \(image)")
        let (error, notes) = executor.netbootRoot(node, image)
        record(action, started, error: error, notes: notes)
      case .netbootFiles:
        executor.progress("head: netboot files")
        let (error, notes) = executor.netbootFiles()
        if error != nil { filesFailed = action.id }
        record(action, started, error: error, notes: notes)
      case .netbootRestart(let service):
        if let filesFailed {
          skip(action, "not started: \(filesFailed) did not succeed")
        } else {
          executor.progress("head: \(service.words)")
          record(action, started, error: executor.netbootRestart(service))
        }
      default:
        break
      }
    }
  }

  /// A stack of `stacks:`: deployed, or its refusal recorded. A stack is deployed only when no
  /// node's earlier action failed (its tasks would have nowhere sure to go, and what failed
  /// comes first).
  mutating func stack(_ action: RunAction) {
    switch action {
    case .refuseStack(_, let reason):
      record(action, Date(), error: reason)
    case .deployStack(let name, _):
      if let blocker = blocker(action) {
        skip(action, blocker)
      } else if let node = failed.keys.sorted().first {
        skip(action, "not started: \(failed[node] ?? node) did not succeed")
      } else if let deploy = executor.deployStack {
        let started = Date()
        executor.progress("deploying stack \(name)")
        let (error, notes) = deploy(name)
        record(action, started, error: error, notes: notes)
      } else {
        skip(action, "this run cannot deploy stacks")
      }
    default:
      break
    }
  }

  /// Docker's setup: in parallel, except managers whose dockerd stops: one at a time, and none
  /// after one failed (it may be down: another one down could cost the swarm its quorum).
  mutating func docker(_ actions: [RunAction]) {
    func alone(_ action: RunAction) -> Bool {
      guard case .docker(let node, let plan) = action else { return false }
      return node.role == .manager && plan.stopsDocker
    }
    let apply = executor.applyDocker
    together(actions.filter { !alone($0) }) { action in
      guard case .docker(let node, let plan) = action else { return ("not a docker action", []) }
      return apply(node, plan)
    }
    var failedManager: String?
    for action in actions where alone(action) {
      guard case .docker(let node, let plan) = action else { continue }
      if let blocker = blocker(action) {
        skip(action, blocker)
      } else if let failedManager {
        skip(
          action,
          "not started: \(failedManager) failed first, and managers restart one at a time so the swarm keeps its quorum")
      } else {
        let started = Date()
        let (error, notes) = apply(node, plan)
        if error != nil { failedManager = node.name }
        record(action, started, error: error, notes: notes)
      }
    }
    // Results in the plan's order.
    let order = Dictionary(uniqueKeysWithValues: actions.enumerated().map { ($0.element.id, $0.offset) })
    let tail = results.suffix(actions.count).sorted { (order[$0.action.id] ?? 0) < (order[$1.action.id] ?? 0) }
    results.replaceSubrange((results.count - actions.count)..., with: tail)
  }
}
