import ArgumentParser
import PiSwarmCore
import PiSwarmSystem

struct NodeRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove a node from the cluster file.",
    discussion: """
      Deletes the node's own entry; comments and layout elsewhere are kept. A node that comes from
      a range, or that swarm.managers names, must be edited by hand (the message says how).
      This edits the file only: to take a node out of a running swarm use 'piswarm swarm rm'.

      Example:
        piswarm node rm node04
      """,
    aliases: ["remove"]
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The node to remove.")
  var name: String

  func run() throws {
    try reporting {
      _ = try prepare()
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let (path, text) = try prepare()
        try AtomicFile.write(text, to: path)
        Console.out("removed \(name) from \(path)\n")
      }
    }
  }

  func prepare() throws(PiSwarmError) -> (String, String) {
    let loaded = try global.loadCluster(printWarnings: false)
    if case .names(let managers)? = loaded.cluster.swarm.managers, managers.contains(name) {
      throw PiSwarmError(
        .invalidInput, "\(name) is listed in swarm.managers",
        advice: "take it out of swarm.managers first (keep an odd number of managers), then run this again")
    }
    let text = try ClusterFileEditor.removing(node: name, from: loaded.text)
    try NodeEdit.checkResult(text, path: loaded.path, before: loaded.diagnostics, what: "removing \(name)")
    return (loaded.path, text)
  }
}
