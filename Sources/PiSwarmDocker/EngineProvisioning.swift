import Foundation
import PiSwarmCore
import PiSwarmSSH
import Synchronization

/// Docker on every node as cluster.yml says: reads all nodes at once, then applies each node's
/// plan: workers (and managers whose dockerd keeps running) in parallel, managers whose dockerd
/// restarts one at a time, each back in the swarm before the next, so quorum holds.
public struct EngineProvisioning: Sendable {
  public struct Outcome: Sendable, Codable, Equatable {
    public var node: String
    public var actions: [String]
    public var error: String?
    public var failed: Bool { error != nil }
  }

  public let cluster: Cluster
  public let transport: SSHTransport
  public let parallel: Int
  /// Consent to format `device:` partitions that hold no ext4 filesystem.
  public let format: Bool
  public let progress: @Sendable (String, String) -> Void
  /// Unlocks the node's swarm state when it is locked (autolock) and says whether it did. Tried
  /// every half second while a manager's dockerd restarts, so that the manager, back locked,
  /// rejoins the swarm before the next one restarts (quorum) and the apply need not time out.
  public var unlock: (@Sendable (Node) -> Bool)?

  public init(
    cluster: Cluster, transport: SSHTransport, parallel: Int, format: Bool,
    progress: @escaping @Sendable (String, String) -> Void = { _, _ in }
  ) {
    self.cluster = cluster
    self.transport = transport
    self.parallel = parallel
    self.format = format
    self.progress = progress
  }

  /// Plans from what `EngineSetup.probe` printed on each node (e.g. in preflight's round
  /// trip); a node without output could not be read.
  public func plans(_ nodes: [Node], probed: [String: String]) -> [(node: Node, plan: Result<EngineSetup.Plan, PiSwarmError>)] {
    nodes.map { node in
      guard let output = probed[node.name] else {
        return (node, .failure(PiSwarmError(.system, "cannot read Docker's setup: the node could not be reached")))
      }
      return (
        node, Result { () throws(PiSwarmError) in try EngineSetup.plan(EngineSetup.parse(output), cluster: cluster, node: node) }
      )
    }
  }

  /// Applies plans read earlier.
  public func run(_ planned: [(node: Node, plan: Result<EngineSetup.Plan, PiSwarmError>)]) -> [Outcome] {
    let nodes = planned.map(\.node)
    var outcomes: [String: Outcome] = [:]
    var parallelWork: [(Node, EngineSetup.Plan)] = []
    var oneAtATime: [(Node, EngineSetup.Plan)] = []
    for (node, result) in planned {
      switch result {
      case .failure(let error):
        outcomes[node.name] = Outcome(node: node.name, actions: [], error: error.description)
      case .success(let plan) where plan.isEmpty:
        outcomes[node.name] = Outcome(node: node.name, actions: [], error: nil)
      case .success(let plan):
        if node.role == .manager && plan.stopsDocker {
          oneAtATime.append((node, plan))
        } else {
          parallelWork.append((node, plan))
        }
      }
    }
    let applied = FanOut.run(
      parallelWork, parallel: parallel,
      skipped: { Outcome(node: $0.0.name, actions: [], error: "interrupted before it started") },
      { apply($0.0, $0.1) })
    for outcome in applied { outcomes[outcome.node] = outcome }
    // A manager that failed may be down: taking another one down could cost the swarm its quorum.
    var failedManager: String?
    for (node, plan) in leaderLast(oneAtATime) {
      if Cancellation.isCancelled {
        outcomes[node.name] = Outcome(node: node.name, actions: [], error: "interrupted before it started")
      } else if let failedManager {
        outcomes[node.name] = Outcome(
          node: node.name, actions: [],
          error: "not started: \(failedManager) failed first, and managers restart one at a time so the swarm keeps its quorum")
      } else {
        let outcome = applyUnlocking(node, plan)
        if outcome.failed { failedManager = node.name }
        outcomes[node.name] = outcome
      }
    }
    return nodes.compactMap { outcomes[$0.name] }
  }

  /// The swarm's leader last: every restart of a leader costs an election (10-25 s on small
  /// nodes), so it goes once, after the others are back. Asked only when two or more managers
  /// are to restart.
  func leaderLast(_ managers: [(Node, EngineSetup.Plan)]) -> [(Node, EngineSetup.Plan)] {
    guard managers.count > 1 else { return managers }
    let answers = transport.run(
      on: managers.map(\.0), ["docker", "node", "inspect", "self", "--format", "{{.ManagerStatus.Leader}}"],
      parallel: parallel)
    let leaders = Set(zip(managers, answers).filter { $0.1.ok && $0.1.stdout.hasPrefix("true") }.map { $0.0.0.name })
    return managers.filter { !leaders.contains($0.0.name) } + managers.filter { leaders.contains($0.0.name) }
  }

  /// `apply`, with `unlock` tried on the node while it runs.
  func applyUnlocking(_ node: Node, _ plan: EngineSetup.Plan) -> Outcome {
    guard let unlock else { return apply(node, plan) }
    let state = Mutex((done: false, unlocked: false))
    let finished = DispatchSemaphore(value: 0)
    let watcher = Thread {
      while !state.withLock({ $0.done }) {
        if unlock(node) { state.withLock { $0.unlocked = true } }
        usleep(500_000)
      }
      finished.signal()
    }
    watcher.start()
    var outcome = apply(node, plan)
    state.withLock { $0.done = true }
    finished.wait()
    if state.withLock({ $0.unlocked }) { outcome.actions.append("unlocked") }
    return outcome
  }

  func apply(_ node: Node, _ plan: EngineSetup.Plan) -> Outcome {
    let actions = plan.actions(node)
    progress(node.name, actions.joined(separator: ", ") + " …")
    let result = transport.run(
      node, RemoteScript.engineApply.command(EngineSetup.applyEnvironment(plan, node: node, format: format)))
    let facts = KeyValueLines.parse(result.stdout, keys: ["error", "done"])
    if result.ok, facts["done"] == "yes" {
      progress(node.name, actions.joined(separator: ", ") + ": done")
      return Outcome(node: node.name, actions: actions, error: nil)
    }
    let reason =
      facts["error"]
      ?? (result.outcome == .failed
        ? "Docker setup failed: "
          + result.stderr.split(separator: "\n").suffix(3).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
        : result.message ?? result.status)
    progress(node.name, "failed: \(reason)")
    return Outcome(node: node.name, actions: actions, error: reason)
  }
}
