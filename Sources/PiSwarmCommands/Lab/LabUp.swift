import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabUp: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "up",
    abstract: "Create a lab, or grow it, and start every node that is not running.",
    discussion: """
      Idempotent: running it again starts only what is stopped, and a larger --nodes adds nodes.
      The last line of the output is the path of the lab's cluster.yml.

      Example:
        piswarm lab up --nodes 3
        piswarm --file "$(piswarm lab up --nodes 3 | tail -n 1)" node ls
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions

  @Option(help: "How many nodes (1 to \(LabLayout.maximumNodes)).")
  var nodes = 3

  @Option(help: "How many of them are swarm managers (default: 3 with three or more nodes, else 1).")
  var managers: Int?

  func validate() throws {
    if let problem = LabLayout.problem(withName: options.name) { throw ValidationError("--name \"\(options.name)\": \(problem)") }
    guard (1...LabLayout.maximumNodes).contains(nodes) else {
      throw ValidationError("--nodes must be 1 to \(LabLayout.maximumNodes)")
    }
    if let managers, managers < 1 || managers > nodes { throw ValidationError("--managers must be 1 to --nodes (\(nodes))") }
  }

  func run() throws {
    try reporting {
      let layout = try global.mutating(commandLine) { _ throws(PiSwarmError) in
        try global.lab().up(name: options.name, nodes: nodes, managers: managers)
      }
      let statuses = global.lab().status(name: layout.name)
      Console.out(
        LabTables.nodes(
          statuses, managers: LabState.load(name: layout.name, stateDirectory: global.stateDirectory)?.managers ?? 0))
      Console.out(layout.clusterFile + "\n")
    }
  }
}
