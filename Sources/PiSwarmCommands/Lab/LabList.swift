import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the labs and their nodes' state.",
    discussion: """
      Examples:
        piswarm lab ls
        piswarm lab ls --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Entry: Encodable {
    var name: String
    var subnet: String
    var clusterFile: String
    var nodes: [VirtualLab.NodeStatus]
  }

  func run() throws {
    try reporting {
      let lab = global.lab()
      let entries = LabState.all(stateDirectory: global.stateDirectory).map { state in
        let layout = state.layout(stateDirectory: lab.stateDirectory)
        return Entry(
          name: state.name, subnet: layout.headAddress.networkDescription, clusterFile: layout.clusterFile,
          nodes: lab.status(name: state.name))
      }
      if json {
        Console.out(try Console.json(entries))
        return
      }
      let rows = entries.map { entry in
        [
          entry.name, entry.subnet, "\(entry.nodes.filter(\.running).count)/\(entry.nodes.count)",
          "\(entry.nodes.filter(\.docker).count)/\(entry.nodes.count)", entry.clusterFile,
        ]
      }
      Console.out(TextTable.render(header: ["LAB", "SUBNET", "RUNNING", "DOCKER", "CLUSTER FILE"], rows: rows))
    }
  }
}
