import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmImages
import PiSwarmPower
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// One `upgrade` or `rollback` run: what it observed (the swarm, the roots), its plan, and the
/// steps carried out one node at a time (`UpgradeSession+Steps`).
final class UpgradeSession {
  let kind: UpgradeKind
  var cluster: Cluster
  let global: GlobalOptions
  let options: UpgradeOptions
  let transport: SSHTransport
  /// `full-upgrade`, or `simulate` (tests).
  let apt: String
  /// Each netboot node's root generations, kept in step with the state store.
  var generations: [String: [RootGeneration]] = [:]
  /// The nodes whose package upgrade asked for a restart.
  var rebootNeeded: Set<String> = []
  /// The targeted nodes that are in the swarm (checked for Ready after their restart).
  var swarmMembers: Set<String> = []

  init(
    kind: UpgradeKind, cluster: Cluster, global: GlobalOptions, options: UpgradeOptions, transport: SSHTransport,
    apt: String = "full-upgrade"
  ) {
    self.kind = kind
    self.cluster = cluster
    self.global = global
    self.options = options
    self.transport = transport
    self.apt = apt
  }

  static func progress(_ node: String, _ text: String) { Console.err("\(node): \(text)") }

  // MARK: Observing

  /// A node's dockerd over SSH, negotiated; nil when it does not answer.
  func docker(_ node: Node) -> DockerClient? {
    var client = DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node), timeout: 30))
    guard (try? client.negotiate()) != nil else { return nil }
    return client
  }

  /// A manager that can change the swarm, another one than `node` when there is one.
  func manager(except node: Node? = nil) -> DockerClient? {
    let candidates = cluster.managers.filter { $0 != node } + (node.map { [$0] } ?? [])
    for candidate in candidates {
      if let client = docker(candidate), (try? client.info().Swarm.ControlAvailable) == true { return client }
    }
    return nil
  }

  /// The planner's view of `nodes`: each node's place in the swarm, the managers' count and
  /// who of them is not reachable, and the root generations of netboot nodes.
  func candidates(
    _ nodes: [Node], store: SQLiteStateStore
  ) throws(PiSwarmError) -> (
    [UpgradeCandidate], managers: Int, unreachable: Set<String>
  ) {
    var entries: [SwarmNode] = []
    if let manager = manager() {
      entries = try manager.nodes()
    } else if kind != .rollback {
      // Without a manager there is no draining: only a cluster without a swarm goes on.
      let swarmless = cluster.managers.contains { node in
        docker(node).flatMap { try? $0.info().Swarm.LocalNodeState } == .inactive
      }
      guard swarmless else {
        throw PiSwarmError(
          .system, "no manager answers: nodes cannot be drained and checked",
          advice: "'piswarm status' shows the managers; bring one back ('piswarm up'), then upgrade")
      }
    } else {
      Console.err("warning: no manager answers: nodes are rolled back without draining")
    }
    let byAddress = Dictionary(grouping: entries, by: { $0.Status.Addr ?? "" })
    let managerEntries = entries.filter { $0.Spec.Role == .manager }
    var unreachable: Set<String> = []
    for entry in managerEntries where entry.ManagerStatus?.Reachability != "reachable" {
      let name = cluster.nodes.first { $0.ip.description == entry.Status.Addr }?.name ?? entry.Description?.Hostname ?? entry.ID
      unreachable.insert(name)
    }
    let roots = Dictionary(uniqueKeysWithValues: try store.roots().map { ($0.node, $0) })
    var candidates: [UpgradeCandidate] = []
    for node in nodes {
      let own = byAddress[node.ip.description] ?? []
      let entry = own.first { $0.Status.State == .ready } ?? own.first
      let swarm: UpgradeCandidate.Swarm = entry == nil ? .absent : entry?.Status.State == .ready ? .ready : .down
      if swarm != .absent { swarmMembers.insert(node.name) }
      var candidate = UpgradeCandidate(
        node: node, swarm: swarm, manager: entry.map { $0.Spec.Role == .manager },
        leader: entry?.ManagerStatus?.Leader == true)
      if node.boot == .netboot, let root = roots[node.name], Files.exists(root.path) {
        let known = try root.generations(store)
        generations[node.name] = known
        candidate.currentImage = RootGenerations.current(known)?.image
        if case .image(let image) = kind, let made = known.first(where: { $0.role == .made && $0.image == image }) {
          candidate.nextGeneration = made.number
        } else {
          candidate.nextGeneration = RootGenerations.next(known)
        }
        candidate.previousGeneration = RootGenerations.previous(known).map { ($0.number, $0.image) }
      }
      candidates.append(candidate)
    }
    return (candidates, managerEntries.count, unreachable)
  }

  // MARK: Running

  /// Carries out `plan`, journaling every step; stops at the first failure. Prints each
  /// outcome as a JSON line with --json.
  func run(_ plan: UpgradePlan, journal: Journal) -> [UpgradeSequence.Outcome] {
    let control = PowerWiring.control(
      cluster, stateDirectory: global.stateDirectory, transport: transport, progress: { Self.progress($0.name, $1) })
    var started = Date()
    return UpgradeSequence.run(
      plan,
      report: { outcome in
        let status: StepStatus =
          switch outcome.status {
          case .done: .done
          case .skipped: .skipped
          case .failed: .failed
          case .notStarted: .skipped
          }
        try? journal.step(
          node: outcome.node, "\(kindName) \(outcome.step)", status, started: started,
          error: outcome.status == .failed ? outcome.detail : nil)
        if options.json {
          Console.out(Self.jsonLine(outcome))
        } else {
          Console.err(
            "\(outcome.node): \(outcome.step): \(outcome.status.rawValue)\(outcome.detail.map { " (\($0))" } ?? "")")
        }
      }
    ) { step in
      started = Date()
      if Cancellation.isCancelled { return .failed("interrupted") }
      guard let node = cluster.node(named: step.node) else { return .failed("\(step.node) is not in the cluster file") }
      Self.progress(node.name, "\(step.action.rawValue): \(step.detail)")
      do throws(PiSwarmError) {
        return try perform(step, node, control: control, store: journal.store)
      } catch {
        return .failed(error.description)
      }
    }
  }

  var kindName: String {
    switch kind {
    case .image, .packages: "upgrade"
    case .rollback: "rollback"
    }
  }

  /// One compact JSON object and a newline.
  static func jsonLine<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}\n" }
    return TerminalText.json(String(decoding: data, as: UTF8.self)) + "\n"
  }

  /// The lines that say where a stopped run left the node that failed, and how back.
  func stoppedAdvice(_ outcomes: [UpgradeSequence.Outcome]) -> [String] {
    guard let failed = outcomes.first(where: { $0.status == .failed }) else { return [] }
    var lines = ["stopped at \(failed.node) (\(failed.step)): \(failed.detail ?? "failed")"]
    let left = Set(outcomes.filter { $0.status == .notStarted }.map(\.node)).subtracting([failed.node]).sorted()
    if !left.isEmpty { lines.append("not started: \(left.joined(separator: ", "))") }
    let switched = outcomes.contains {
      $0.node == failed.node && $0.step == UpgradePlan.Action.switchRoot.rawValue && $0.status == .done
    }
    if switched, kind != .rollback {
      let current = generations[failed.node].flatMap(RootGenerations.current)
      lines.append(
        "\(failed.node) boots root generation \(current?.number ?? 0) (\(current?.image ?? "?")) and stays drained; look at it, then 'piswarm rollback \(failed.node)' boots its previous root again"
      )
    } else if outcomes.contains(where: {
      $0.node == failed.node && $0.step == UpgradePlan.Action.drain.rawValue && $0.status == .done
    }) {
      lines.append(
        "\(failed.node) stays drained: 'docker node update --availability active \(failed.node)' on a manager, or run again")
    }
    return lines
  }
}
