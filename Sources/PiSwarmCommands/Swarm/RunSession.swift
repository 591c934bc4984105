import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmNetboot
import PiSwarmRegistry
import PiSwarmSSH
import PiSwarmStore

/// What `plan` and `up` share: one observation of the nodes and the swarm, and one way to show
/// the actions `RunPlanner` made from it.
enum RunSession {
  /// Preflight and Docker's setup probe in one round trip per node, then each node's dockerd
  /// and the swarm's view from one of its managers, and the head's registry services.
  /// With `stacks:`, `stacks` gives the cluster file's folder and the docker CLI (or why there
  /// is none) to read them with. With netboot nodes, `netboot` reads the head's netboot files
  /// and the nodes' roots by a dry run (with the state store, when there is one); its warnings
  /// go to `warn`.
  static func observe(
    _ cluster: Cluster, transport: SSHTransport, parallel: Int, memory: any SwarmMemory, stateDirectory: String,
    stacks: (folder: String, cli: Result<DockerCLI, PiSwarmError>)? = nil,
    netboot: (step: NetbootStep, store: SQLiteStateStore?, warn: (String) -> Void)? = nil,
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) -> RunObservation {
    let (findings, probed) = transport.reportingNewKeys(cluster.nodes) {
      transport.preflight(
        cluster.nodes, parallel: parallel, alsoRunning: (EngineSetup.probe, EngineSetup.probeEnvironment(cluster)))
    }
    let registry = HeadRegistry(cluster: cluster, stateDirectory: stateDirectory)
    var observer = RunObserver(cluster: cluster, parallel: parallel, client: { dockerClient(transport, $0) })
    observer.memory = memory
    observer.progress = progress
    var observation = observer.observe(RunObserver.nodes(cluster, findings: findings, probed: probed))
    observation.registry = RegistryObservation(state: registry.observe(), paths: registry.paths)
    do {
      observation.nat = try HeadNATControl().observe()
    } catch {
      // Without nft there is no table of piswarm's to remove: only a wanted NAT is refused.
      observation.natError = "\(error)"
    }
    if let netboot, let (seen, warnings) = netboot.step.observe(store: netboot.store) {
      observation.netboot = seen
      for warning in warnings { netboot.warn("warning: \(warning)") }
    }
    if let stacks {
      StackObserver.observe(&observation, cluster: cluster, clusterFolder: stacks.folder, cli: stacks.cli, transport: transport)
    }
    return observation
  }

  /// The docker CLI for `stacks:` (installed when `install` and there is none), or why not.
  static func stackCLI(_ cluster: Cluster, install: Bool) -> Result<DockerCLI, PiSwarmError> {
    Result { () throws(PiSwarmError) -> DockerCLI in try DockerCLI.locate(install: install) { Console.err($0) } }
  }

  static func dockerClient(_ transport: SSHTransport, _ node: Node) -> DockerClient {
    DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node)))
  }

  /// One row of `plan`'s and `up`'s output: a preflight finding, an action (with its identity
  /// in `action`, as the journal records it, and, after `up`, how it went), or a node with
  /// nothing to do.
  struct Row: Encodable, Equatable {
    var node: String
    var step: String
    var change: String
    var action: String?
    var status: RunExecutor.Result.Status?
    var error: String?
    var notes: [String]?
  }

  /// `plan`'s rows: preflight's findings, the actions in the order `up` runs them, then the
  /// nodes without any.
  static func rows(_ plan: RunPlan, cluster: Cluster) -> [Row] {
    var rows = plan.findings.map {
      Row(node: $0.node, step: "preflight", change: "\($0.severity.rawValue): \($0.message)")
    }
    rows += plan.actions.map { Row(node: $0.place, step: $0.step, change: $0.change, action: $0.id) }
    if !plan.blocked {
      let busy = Set(plan.actions.compactMap(\.node))
      let rest =
        plan.bootsFirst
        ? "read again once the nodes switched on are up"
        : plan.startsEnginesFirst ? "read again once the dockerds this run starts answer" : "unchanged"
      rows += cluster.nodes.filter { !busy.contains($0.name) }.map { Row(node: $0.name, step: "-", change: rest) }
    }
    return rows
  }

  /// `up`'s rows: each action and how it went, then the nodes the swarm does not see Ready.
  static func rows(_ report: RunExecutor.Report, cluster: Cluster) -> [Row] {
    var rows = report.results.map { result in
      Row(
        node: result.action.place, step: result.action.step, change: result.action.change, action: result.action.id,
        status: result.status, error: result.error,
        notes: result.notes.isEmpty ? nil : result.notes)
    }
    for node in cluster.nodes {
      guard let error = report.notReady[node.name] else { continue }
      rows.append(Row(node: node.name, step: "swarm", change: "ready", status: .failed, error: error))
    }
    return rows
  }

  static func table(_ rows: [Row], withStatus: Bool) -> String {
    TextTable.render(
      header: withStatus ? ["NODE", "STEP", "CHANGE", "STATUS"] : ["NODE", "STEP", "CHANGE"],
      rows: rows.map { row in
        var cells = [row.node, row.step, row.change]
        if withStatus {
          cells.append(
            row.status.map { status in
              row.notes.map { "\(status.rawValue) (\($0.joined(separator: ", ")))" } ?? status.rawValue
            } ?? "")
        }
        return cells
      })
  }
}
