import Foundation
import PiSwarmCore
import PiSwarmDocker
import Synchronization
import Testing

/// A cluster of fake nodes for the planner and the executor: each node's dockerd is a
/// `FakeSwarm` engine, Docker's setup is as cluster.yml says unless a test says otherwise, and
/// applying a Docker setup is a stub that records it.
final class RunHarness {
  let cluster: Cluster
  let swarm: FakeSwarm
  var memory = InMemorySwarmMemory()
  /// Another memory than `memory` (one that fails).
  var otherMemory: (any SwarmMemory)?
  /// Docker's setup as read, per node; nodes not here are set up as cluster.yml says.
  var engines: [String: EngineSetup.State] = [:]
  var unreachable: [String: String] = [:]
  /// Whether Docker's setup probe reads each node's `/info` (as on nodes with curl), so that
  /// the observer asks only the rest through the Engine API.
  var probeReadsInfo = false
  /// Nodes whose Docker setup fails when applied.
  var failingDocker: Set<String> = []
  /// Nodes whose Docker setup was applied, in order.
  let applied = Recorder()
  /// The executor's progress lines.
  let lines = Recorder()
  /// Power actions run, in order (`on NODE`, `wait NODE`).
  let powered = Recorder()
  /// Nodes whose power on fails, and nodes that never come up.
  var failingPower: Set<String> = []
  var neverUp: Set<String> = []
  /// Nodes that failed to boot in an earlier round of the run.
  var bootFailed: [String: String] = [:]
  /// The head's netboot side as a dry run found it (nil: a cluster without netboot nodes).
  var netboot: NetbootObservation?
  /// Netboot actions run, in order (`root NODE`, `files`, `restart SERVICE`).
  let netbooted = Recorder()
  /// Netboot actions that fail (`root NODE`, `files`, `restart SERVICE`).
  var failingNetboot: Set<String> = []

  final class Recorder: Sendable {
    let items = Mutex<[String]>([])
    func add(_ item: String) { items.withLock { $0.append(item) } }
    var all: [String] { items.withLock { $0 } }
  }

  init(
    managers: [String], nodes: Int, labels: [String: String] = [:], extra: String = "", power: String? = nil,
    nodeKeys: [String: String] = [:], onJoin: @escaping @Sendable (String) -> Void = { _ in }
  ) throws {
    var text = """
      name: t
      head: {interface: eth0, address: 10.0.0.1/24}
      defaults: {boot: preinstalled, docker_storage: root\(power.map { ", power: \($0)" } ?? "")}
      swarm:
        managers: [\(managers.joined(separator: ", "))]
      \(extra)
      nodes:

      """
    for index in 1...nodes {
      let name = "node0\(index)"
      let own = (labels[name].map { ", labels: {\($0)}" } ?? "") + (nodeKeys[name].map { ", \($0)" } ?? "")
      text += "  - {name: \(name), ip: \(Self.ip(index))\(own)}\n"
    }
    let decoded = ClusterFile.decode(text: text)
    cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    swarm = FakeSwarm((1...nodes).map(Self.ip), onJoin: onJoin)
  }

  static func ip(_ index: Int) -> String { "10.0.0.1\(index)" }

  /// Docker set up on `node` as cluster.yml says: nothing to do.
  func settled(_ node: Node) -> EngineSetup.State {
    EngineSetup.State(
      docker: true, apt: true, daemonJSON: try? DaemonConfig.render(existing: nil, DaemonConfig.Settings(cluster, node)),
      fstab: DockerStorageLayout.fstab(existing: "", storage: node.dockerStorage), storageMode: nil, storageMounted: false)
  }

  func observe() -> RunObservation {
    var nodes: [String: NodeObservation] = [:]
    let swarm = self.swarm
    for node in cluster.nodes {
      var engine = engines[node.name] ?? settled(node)
      if probeReadsInfo, unreachable[node.name] == nil { engine.engineInfo = swarm.infoAsProbed(node.ip.description) }
      nodes[node.name] = NodeObservation(unreachable: unreachable[node.name], engine: engine)
    }
    var observer = RunObserver(cluster: cluster, parallel: 4, client: { swarm.client($0) })
    observer.memory = otherMemory ?? memory
    var observation = observer.observe(nodes)
    observation.bootFailed = bootFailed
    observation.netboot = netboot
    return observation
  }

  func plan() -> RunPlan { RunPlanner.plan(observe(), cluster: cluster) }

  func execute(_ plan: RunPlan) -> RunExecutor.Report {
    let failing = failingDocker
    let swarm = self.swarm
    let applied = self.applied
    var executor = RunExecutor(
      cluster: cluster, parallel: 4, client: { swarm.client($0) },
      applyDocker: { node, _ in
        applied.add(node.name)
        // As after an install: the node's dockerd answers.
        if !failing.contains(node.name) { swarm.state.withLock { $0.engines[node.ip.description]?.down = false } }
        return (failing.contains(node.name) ? "Docker setup failed: disk full" : nil, [])
      })
    executor.memory = otherMemory ?? memory
    executor.readyTimeout = 1
    let powered = self.powered
    let (failingPower, neverUp) = (self.failingPower, self.neverUp)
    executor.powerOn = { node in
      powered.add("on \(node.name)")
      return failingPower.contains(node.name) ? "the relay did not answer" : nil
    }
    executor.waitBoot = { node in
      powered.add("wait \(node.name)")
      return neverUp.contains(node.name)
        ? ("stuck in phase ssh: waited 180 s for SSH", ["power-cycled once stuck in phase ssh"]) : (nil, [])
    }
    let (netbooted, failingNetboot) = (self.netbooted, self.failingNetboot)
    let netboot: @Sendable (String) -> String? = { name in
      netbooted.add(name)
      return failingNetboot.contains(name) ? "\(name) failed: disk full" : nil
    }
    executor.netbootRoot = { node, _ in (netboot("root \(node.name)"), []) }
    executor.netbootFiles = { (netboot("files"), []) }
    executor.netbootRestart = { netboot("restart \($0.rawValue)") }
    let lines = self.lines
    executor.progress = { lines.add($0) }
    return executor.execute(plan)
  }

  /// Every line a run could show or journal: its progress and its results.
  func printed(_ report: RunExecutor.Report) -> String {
    lines.all.joined(separator: "\n") + "\n"
      + report.results.map { "\($0.action.id) \($0.action.change) \($0.status) \($0.error ?? "")" }.joined(separator: "\n")
  }
}
