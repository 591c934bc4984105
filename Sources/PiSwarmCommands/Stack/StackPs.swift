import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker

struct StackPs: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ps",
    abstract: "Show the tasks of a stack: where each runs, its state and its error.",
    discussion: """
      The tasks that should run; for a replica (or a global service's node) that has none right
      now because its last task failed (swarm waits before it replaces one), that task, with its
      error. With
      --all, every task, the ones that ended too. Exit 1 when a replica is not running.

      Examples:
        piswarm stack ps web
        piswarm stack ps web --all --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "The stack's name.")
  var name: String

  @Flag(help: "Also the tasks that ended (replaced, failed, shut down).")
  var all = false

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let session = try StackSession.open(global, remote)
      let services = try session.client.services(label: "\(StackConfig.namespaceLabel)=\(name)")
      guard !services.isEmpty else {
        try session.closeMasters()
        throw PiSwarmError(.notFound, "no stack \(name) on the swarm", advice: "'piswarm stack ls' lists the stacks")
      }
      let tasks = try session.client.tasks(services: services.map(\.ID))
      let nodes = try session.client.nodes()
      try session.closeMasters()
      let rows = Self.rows(tasks, services: services, nodes: nodes, all: all)
      Console.out(json ? try Console.json(rows) : StackTables.tasks(rows))
      if rows.contains(where: { $0.desired != "running" || $0.state != "running" }) && !all { throw Exit.failure }
    }
  }

  static func rows(_ tasks: [SwarmTask], services: [SwarmService], nodes: [SwarmNode], all: Bool) -> [StackTables.Task] {
    let serviceNames = Dictionary(uniqueKeysWithValues: services.map { ($0.ID, $0.Spec.Name) })
    let hostNames = Dictionary(uniqueKeysWithValues: nodes.map { ($0.ID, $0.Description?.Hostname ?? String($0.ID.prefix(12))) })
    // Nodes nothing should run on (drained or paused): a global service's task there ended on purpose.
    let idle = Set(nodes.filter { $0.Spec.Availability != .active }.map(\.ID))
    // Per replica (slot, or node of a global service): the tasks that should run, else its last.
    let slots = Dictionary(grouping: tasks) { "\($0.ServiceID ?? "") \($0.Slot.map(String.init) ?? $0.NodeID ?? $0.ID)" }
    let shown =
      all
      ? tasks
      : slots.values.flatMap { group in
        let wanted = group.filter { $0.DesiredState == .running }
        guard wanted.isEmpty else { return wanted }
        // A global service's task on a drained node may end "failed" (its container's exit code
        // when stopped): that node is meant to run nothing.
        if let task = group.first, task.Slot == nil, let node = task.NodeID, idle.contains(node) { return [] }
        // A replica whose last task failed (its replacement not made yet); not one scaled down
        // or on a drained node (those were shut down).
        let last = group.max { ($0.CreatedAt ?? "") < ($1.CreatedAt ?? "") }
        return last.map { [.failed, .rejected].contains($0.Status.State) ? [$0] : [] } ?? []
      }
    var rows: [StackTables.Task] = []
    for task in shown {
      let service = task.ServiceID.flatMap { serviceNames[$0] } ?? "?"
      let node = task.NodeID.flatMap { hostNames[$0] } ?? ""
      let slot = task.Slot.map(String.init) ?? String((task.NodeID ?? task.ID).prefix(12))
      let error = task.Status.Err.flatMap { $0.isEmpty ? nil : $0 }
      rows.append(
        StackTables.Task(
          task: "\(service).\(slot)", service: service, node: node, desired: task.DesiredState?.rawValue ?? "",
          state: task.Status.State.rawValue, error: error))
    }
    // By task; of one task's slot, the ones that should run first.
    return rows.sorted { a, b in a.task != b.task ? a.task < b.task : (a.desired == "running" && b.desired != "running") }
  }
}
