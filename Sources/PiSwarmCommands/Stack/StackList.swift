import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker

struct StackList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the stacks on the swarm, with their tasks running, and those of cluster.yml not deployed.",
    discussion: """
      Examples:
        piswarm stack ls
        piswarm stack ls --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let session = try StackSession.open(global, remote)
      let services = try session.client.services(label: StackConfig.namespaceLabel)
      try session.closeMasters()
      var stacks: [String: StackTables.Stack] = [:]
      for service in services {
        guard let name = service.stack else { continue }
        var stack = stacks[name] ?? StackTables.Stack(name: name, services: 0, running: 0, desired: 0, inClusterFile: false)
        stack.services += 1
        stack.running += service.ServiceStatus?.RunningTasks ?? 0
        stack.desired += service.ServiceStatus?.DesiredTasks ?? 0
        stacks[name] = stack
      }
      for spec in session.cluster.stacks {
        stacks[spec.name, default: StackTables.Stack(name: spec.name, services: 0, running: 0, desired: 0, inClusterFile: true)]
          .inClusterFile = true
      }
      let rows = stacks.values.sorted { $0.name < $1.name }
      Console.out(json ? try Console.json(rows) : StackTables.list(rows))
    }
  }
}
