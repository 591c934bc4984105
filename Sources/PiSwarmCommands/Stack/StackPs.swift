import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker

struct StackPs: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ps",
    abstract: "Show the tasks of a stack: where each runs, its state and its error.",
    discussion: """
      Tasks that should run, then (with --all) the ones that ended. Exit 1 when a task that
      should run does not.

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
      if rows.contains(where: { $0.desired == "running" && $0.state != "running" }) { throw Exit.failure }
    }
  }

  static func rows(_ tasks: [SwarmTask], services: [SwarmService], nodes: [SwarmNode], all: Bool) -> [StackTables.Task] {
    let serviceNames = Dictionary(uniqueKeysWithValues: services.map { ($0.ID, $0.Spec.Name) })
    let hostNames = Dictionary(uniqueKeysWithValues: nodes.map { ($0.ID, $0.Description?.Hostname ?? String($0.ID.prefix(12))) })
    let shown = tasks.filter { all || $0.DesiredState == .running }
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
