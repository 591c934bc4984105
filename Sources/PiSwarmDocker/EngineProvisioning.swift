import Foundation
import PiSwarmCore
import PiSwarmSSH
import Synchronization

/// Docker's setup applied on a node (Scripts/engine-apply.sh), as `RunPlanner` planned it; the
/// order (managers whose dockerd restarts one at a time, the leader last) is the plan's.
public struct EngineProvisioning: Sendable {
  public struct Outcome: Sendable, Codable, Equatable {
    public var node: String
    public var actions: [String]
    public var error: String?
    /// The node's swarm state was unlocked (autolock) while its dockerd restarted.
    public var unlocked = false
    public var failed: Bool { error != nil }
  }

  public let cluster: Cluster
  public let transport: SSHTransport
  /// Consent to format `device:` partitions that hold no ext4 filesystem.
  public let format: Bool
  public let progress: @Sendable (String, String) -> Void
  /// Unlocks the node's swarm state when it is locked (autolock) and says whether it did. Tried
  /// every half second while a manager's dockerd restarts, so that the manager, back locked,
  /// rejoins the swarm before the next one restarts (quorum) and the apply need not time out.
  public var unlock: (@Sendable (Node) -> Bool)?
  /// The cluster CA's certificate, read on the head when a node's step installs it (the
  /// registry action before may just have made it).
  public var registryCA: @Sendable () -> String? = { nil }

  public init(
    cluster: Cluster, transport: SSHTransport, format: Bool,
    progress: @escaping @Sendable (String, String) -> Void = { _, _ in }
  ) {
    self.cluster = cluster
    self.transport = transport
    self.format = format
    self.progress = progress
  }

  /// Applies `plan` on `node` for `RunExecutor`: the error, and "unlocked" when the node's
  /// swarm state was unlocked while its dockerd restarted.
  public func apply(_ node: Node, _ plan: EngineSetup.Plan) -> (error: String?, notes: [String]) {
    let outcome = applyUnlocking(node, plan)
    return (outcome.error, outcome.unlocked ? ["unlocked"] : [])
  }

  /// `applyScript`, with `unlock` tried on the node while it runs.
  public func applyUnlocking(_ node: Node, _ plan: EngineSetup.Plan) -> Outcome {
    guard let unlock else { return applyScript(node, plan) }
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
    var outcome = applyScript(node, plan)
    state.withLock { $0.done = true }
    finished.wait()
    outcome.unlocked = state.withLock { $0.unlocked }
    return outcome
  }

  func applyScript(_ node: Node, _ plan: EngineSetup.Plan) -> Outcome {
    let actions = plan.actions(node)
    var ca: String?
    if plan.registryCA {
      ca = registryCA()
      if ca == nil {
        return Outcome(
          node: node.name, actions: actions,
          error: "the head's cluster CA is not there to install; see the 'registry on head' action")
      }
    }
    progress(node.name, actions.joined(separator: ", ") + " …")
    let environment = EngineSetup.applyEnvironment(
      plan, node: node, format: format, registryCA: ca, trustFolders: cluster.registryTrustFolders)
    let result = transport.run(node, RemoteScript.engineApply.command(environment))
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
