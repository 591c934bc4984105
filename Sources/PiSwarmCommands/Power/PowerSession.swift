import Foundation
import PiSwarmCore
import PiSwarmPower
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem
import Synchronization

/// What the power verbs share: targets, bounded fan-out, the journal, the outcome as a table or
/// JSON, the exit status.
enum PowerSession {
  /// One node's outcome, as `--json` prints it. Never a secret: drivers redact their output.
  struct Row: Encodable, Equatable {
    var node: String
    var driver: String
    var action: String
    /// on, off, unknown, uncontrolled; nil when the driver failed.
    var state: PowerState?
    var ok: Bool
    var error: String?
    var notes: [String]?
  }

  static func run(
    _ verb: PowerVerb, _ options: PowerOptions, _ body: @escaping @Sendable (PowerControl, Node) -> PowerControl.Outcome
  ) throws {
    try reporting {
      let (cluster, nodes, transport) = try options.remote.session(options.global, target: options.targets)
      guard !nodes.isEmpty else { throw PiSwarmError(.invalidInput, "target \"\(options.targets)\" matches no node") }
      let board = ProgressBoard(nodes: nodes.map(\.name))
      let control = PowerWiring.control(
        cluster, stateDirectory: options.global.stateDirectory, transport: transport, progress: { board.update($0.name, $1) })
      let parallel = options.remote.parallel
      let fanOut = { () -> [Row] in
        FanOut.run(
          nodes, parallel: parallel,
          skipped: {
            Row(node: $0.name, driver: $0.power.driver, action: verb.rawValue, ok: false, error: "interrupted before it started")
          },
          { node in row(verb, node, body(control, node)) })
      }
      let rows: [Row]
      if verb == .status {
        rows = fanOut()
      } else {
        rows = try options.global.mutating(commandLine) { journal throws(PiSwarmError) -> [Row] in
          let started = Date()
          let rows = fanOut()
          for row in rows {
            let status: StepStatus = row.ok ? .done : row.state == .uncontrolled ? .refused : .failed
            try journal.step(node: row.node, "power \(verb.rawValue)", status, started: started, error: row.error)
          }
          return rows
        }
      }
      board.finish()
      try Interrupts.finish(transport, nodes)
      Console.out(options.json ? try Console.json(rows) : table(rows))
      let failed = rows.filter { !$0.ok }
      Console.err(
        failed.isEmpty
          ? "\(rows.count) of \(rows.count) node\(rows.count == 1 ? "" : "s") ok"
          : "\(rows.count - failed.count) of \(rows.count) nodes ok; not done:\n"
            + failed.map { "  \($0.node): \($0.error ?? $0.state?.rawValue ?? "failed")" }.joined(separator: "\n"))
      if !failed.isEmpty { throw Exit.failure }
    }
  }

  static func row(_ verb: PowerVerb, _ node: Node, _ outcome: PowerControl.Outcome) -> Row {
    Row(
      node: node.name, driver: node.power.driver, action: verb.rawValue, state: outcome.state,
      ok: outcome.error == nil && outcome.state != nil && outcome.state != .uncontrolled, error: outcome.error,
      notes: outcome.notes.isEmpty ? nil : outcome.notes)
  }

  static func table(_ rows: [Row]) -> String {
    TextTable.render(
      header: ["NODE", "DRIVER", "STATE", "NOTES"],
      rows: rows.map { row in
        [
          row.node, row.driver, row.state?.rawValue ?? "failed",
          ((row.notes ?? []) + (row.error.map { [$0.split(separator: "\n").first.map(String.init) ?? $0] } ?? []))
            .joined(separator: "; "),
        ]
      })
  }
}

/// The power machinery of a command (`power`, `up`): drivers with the state directory's
/// secrets, `via:` over piswarm's SSH, boot waits from SSH and the boot events.
enum PowerWiring {
  static func context(_ cluster: Cluster, stateDirectory: String, transport: SSHTransport) -> PowerContext {
    PowerContext(
      stateDirectory: stateDirectory, secrets: SecretStore(stateDirectory: stateDirectory), cluster: cluster,
      runOnNode: { node, command in
        let result = transport.run(node, ["sh", "-c", command])
        guard let code = result.exitCode else { return (nil, result.message ?? result.status) }
        return (code, result.stdout + result.stderr)
      })
  }

  static func sshUp(_ node: Node) -> Bool {
    Probes.tcpBanner(host: node.ip, port: 22, timeout: 1)?.hasPrefix("SSH-") == true
  }

  static func waiter(
    _ cluster: Cluster, stateDirectory: String, context: PowerContext, progress: @escaping @Sendable (Node, String) -> Void
  ) -> BootWaiter {
    let events = BootEventCache(cluster: cluster, stateDirectory: stateDirectory)
    var waiter = BootWaiter(
      timeouts: cluster.power.bootTimeouts, retries: cluster.power.retries, sshUp: sshUp,
      bootMarks: { BootWait.marks(events.progress($0)) },
      cycle: { node in
        if case .failure(let error) = PowerDrivers.run(.cycle, node: node, context: context) { return error.description }
        return nil
      },
      progress: progress)
    waiter.reportsOff = { node in
      if case .success(.off) = PowerDrivers.run(.status, node: node, context: context) { return true }
      return false
    }
    return waiter
  }

  static func control(
    _ cluster: Cluster, stateDirectory: String, transport: SSHTransport, progress: @escaping @Sendable (Node, String) -> Void
  ) -> PowerControl {
    let context = context(cluster, stateDirectory: stateDirectory, transport: transport)
    return PowerControl(
      context: context, transport: transport, settings: cluster.power,
      waiter: waiter(cluster, stateDirectory: stateDirectory, context: context, progress: progress), progress: progress)
  }
}

/// The boot events, read at most every second and a half however many nodes are waited for.
final class BootEventCache: Sendable {
  let cluster: Cluster
  let stateDirectory: String
  private let state = Mutex<(read: Date, progress: [String: NodeBootProgress])>((.distantPast, [:]))

  init(cluster: Cluster, stateDirectory: String) {
    self.cluster = cluster
    self.stateDirectory = stateDirectory
  }

  func progress(_ node: Node) -> NodeBootProgress? {
    state.withLock { state in
      if Date().timeIntervalSince(state.read) > 1.5 {
        let events = (try? BootEventsReader.all(stateDirectory: stateDirectory)) ?? []
        let all = BootProgress.progress(cluster, events: events, sshUp: { _ in false })
        state = (Date(), Dictionary(all.map { ($0.node, $0) }, uniquingKeysWith: { $1 }))
      }
      return state.progress[node.name]
    }
  }
}
