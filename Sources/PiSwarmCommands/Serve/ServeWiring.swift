import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmPower
import PiSwarmSSH
import PiSwarmServe
import PiSwarmStore
import PiSwarmSystem
import Synchronization

/// What `serve` plugs into the watcher and the pages: the swarm from a manager, the boot
/// events, the power drivers, the state store, and the same actions as `piswarm power` and
/// `piswarm swarm drain`, journaled as they are.
/// `@unchecked Sendable`: GlobalOptions and RemoteOptions are parsed option values (strings and
/// numbers) that are only read after the command line was decoded, never changed; the mutable
/// state sits in Mutexes.
final class ServeWiring: @unchecked Sendable {
  let cluster: Cluster
  let global: GlobalOptions
  let remote: RemoteOptions
  let transport: SSHTransport
  /// The manager that answered last, tried first next time.
  let manager = Mutex<DockerClient?>(nil)
  /// When no manager answered: the next search waits (30 s), so a cluster without a swarm costs nothing.
  let nextSearch = Mutex<Date>(.distantPast)

  init(cluster: Cluster, global: GlobalOptions, remote: RemoteOptions, transport: SSHTransport) {
    self.cluster = cluster
    self.global = global
    self.remote = remote
    self.transport = transport
  }

  func probes() -> Watcher.Probes {
    Watcher.Probes(swarm: swarm, boot: boot, power: power)
  }

  func effects() -> ServeApp.Effects {
    ServeApp.Effects(detail: detail, status: status, act: act)
  }

  // MARK: - Probes

  /// The swarm's nodes and running tasks from a manager; nil when none answers.
  func swarm() -> [String: SwarmStanding]? {
    var client = manager.withLock { $0 }
    if client == nil, nextSearch.withLock({ $0 }) <= Date() {
      client = findManager()
      if client == nil { nextSearch.withLock { $0 = Date().addingTimeInterval(30) } }
    }
    guard let client, let nodes = try? client.nodes(), let tasks = try? client.runningTasks() else {
      manager.withLock { $0 = nil }
      return nil
    }
    manager.withLock { $0 = client }
    var standings: [String: SwarmStanding] = [:]
    for node in cluster.nodes {
      // The ready entry wins when an old one of the same address lingers.
      guard let entry = nodes.filter({ $0.Status.Addr == node.ip.description }).max(by: { a, _ in a.Status.State != .ready })
      else { continue }
      standings[node.name] = SwarmStanding(
        role: entry.Spec.Role.rawValue, state: entry.Status.State.rawValue, availability: entry.Spec.Availability.rawValue,
        leader: entry.ManagerStatus?.Leader ?? false,
        runningTasks: tasks.filter { $0.NodeID == entry.ID && $0.Status.State == .running }.map { "task \($0.ID.prefix(12))" })
    }
    return standings
  }

  func findManager() -> DockerClient? {
    for candidate in cluster.managers {
      var client = DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(candidate)))
      guard (try? client.negotiate()) != nil, let info = try? client.info(), info.Swarm.ControlAvailable == true else { continue }
      return client
    }
    return nil
  }

  func boot() -> [String: (phase: String, time: Date?)] {
    let events = (try? BootEventsReader.all(stateDirectory: global.stateDirectory)) ?? []
    var phases: [String: (phase: String, time: Date?)] = [:]
    for progress in BootProgress.progress(cluster, events: events, sshUp: { _ in false }) {
      if let phase = progress.phase { phases[progress.node] = (phase.rawValue, progress.time) }
    }
    return phases
  }

  func power(_ nodes: [Node]) -> [String: String] {
    let control = PowerWiring.control(cluster, stateDirectory: global.stateDirectory, transport: transport, progress: { _, _ in })
    let states = FanOut.run(
      nodes, parallel: 8, skipped: { ($0.name, "unknown") },
      { node in (node.name, control.status(node).state?.rawValue ?? "unknown") })
    return Dictionary(states, uniquingKeysWith: { $1 })
  }

  // MARK: - Pages

  func detail(_ node: Node, _ observation: NodeView) -> Pages.NodeDetail {
    let store = try? SQLiteStateStore(stateDirectory: global.stateDirectory)
    let facts = ((try? store?.facts(node: node.name)) ?? []).map { ($0.name, "\($0.value) (\(Self.stamp($0.observedAt)))") }
    var events: [(Date, String, String)] = []
    let bootEvents = (try? BootEventsReader.all(stateDirectory: global.stateDirectory)) ?? []
    for event in bootEvents.suffix(5000)
    where event.mac == node.mac?.description || (event.ip == node.ip.description && event.mac == nil) {
      events.append(
        (
          event.time, "boot",
          [event.kind.rawValue, event.path ?? "", event.detail ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
        ))
    }
    for run in (try? store?.runs(limit: 200)) ?? [] {
      for step in (try? store?.steps(run: run.id ?? 0)) ?? []
      where step.node == node.name && (step.step.hasPrefix("power") || ["drain", "activate"].contains(step.step)) {
        events.append((step.startedAt, "action", "\(step.step): \(step.status)\(step.error.map { ": \($0)" } ?? "")"))
      }
    }
    events.sort { $0.0 > $1.0 }
    let key = cluster.ssh.key.map(Files.expandTilde).map(Files.absolute) ?? global.defaultKey
    return Pages.NodeDetail(
      facts: facts, events: Array(events.prefix(30)), tasks: observation.swarm?.runningTasks ?? [],
      reach: [
        "ssh -i \(key) -o UserKnownHostsFile=\(transport.knownHosts) \(cluster.ssh.user)@\(node.ip)",
        "piswarm exec \(node.name) -- uptime", "piswarm facts \(node.name)", "piswarm power status \(node.name)",
      ])
  }

  static func stamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
  }

  /// The rows of `piswarm status --json` from the watcher's observations.
  func status(_ observations: [String: NodeView]) -> Data {
    let rows = cluster.nodes.map { node -> Status.Row in
      let seen = observations[node.name] ?? NodeView()
      var row = Status.Row(
        node: node.name, ip: node.ip.description, boot: node.boot.rawValue, ssh: "ok", leader: seen.swarm?.leader ?? false)
      switch seen.reach {
      case .up: break
      case .unknown: row.ssh = "unknown"
      case .down(let why):
        row.ssh = "unreachable"
        row.error = why
      }
      if seen.reach == .up {
        row.docker = seen.sample.values["dockerd"] == "stopped" ? "down" : seen.docker
        row.storage = seen.storage
        row.backingFilesystem = seen.backingFilesystem
      }
      row.role = seen.swarm?.role
      row.state = seen.swarm?.state
      row.availability = seen.swarm?.availability
      row.tasks = seen.swarm?.runningTasks.count
      return row
    }
    return Data(((try? Console.json(rows)) ?? "[]").utf8)
  }

  // MARK: - Actions

  /// Runs one action and journals it like the command line does.
  func act(_ node: Node, _ action: String) -> (ok: Bool, message: String) {
    let command = "piswarm serve: \(ServeApp.actions[action] ?? action) \(node.name)"
    do {
      return try global.mutating(command) { journal throws(PiSwarmError) -> (ok: Bool, message: String) in
        let started = Date()
        switch action {
        case "on", "off", "cycle":
          let verb: PowerVerb = action == "on" ? .on : action == "off" ? .off : .cycle
          let control = PowerWiring.control(
            cluster, stateDirectory: global.stateDirectory, transport: transport, progress: { _, _ in })
          let outcome =
            switch verb {
            case .off: control.off(node, hard: false)
            case .cycle: control.on(node, cycle: true, wait: false)
            default: control.on(node, wait: false)
            }
          let row = PowerSession.row(verb, node, outcome)
          let status: StepStatus = row.ok ? .done : row.state == .uncontrolled ? .refused : .failed
          try journal.step(node: node.name, "power \(verb.rawValue)", status, started: started, error: row.error)
          let said = ((row.notes ?? []) + [row.error].compactMap { $0 }).joined(separator: "; ")
          return (row.ok, "power \(row.state?.rawValue ?? "failed")" + (said.isEmpty ? "" : ": \(said)"))
        default:
          do throws(PiSwarmError) {
            let (manager, _) = try remote.clients(cluster, global: global, except: node)
            let removal = SwarmRemoval(manager: manager)
            if action == "drain" {
              try removal.drain(node, timeout: 120)
            } else {
              let entry = try removal.find(node)
              try manager.updateNode(entry.ID) { $0.Availability = .active }
            }
            try journal.step(node: node.name, action, .done, started: started)
            return (true, action == "drain" ? "drained: its tasks have moved" : "active: it takes tasks again")
          } catch {
            try journal.step(node: node.name, action, .failed, started: started, error: error.message)
            return (false, error.description)
          }
        }
      }
    } catch {
      return (false, error.description)
    }
  }
}
