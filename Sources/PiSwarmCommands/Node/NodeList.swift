import ArgumentParser
import PiSwarmCore

struct NodeList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the nodes of the cluster file, ranges expanded, with roles.",
    discussion: """
      Examples:
        piswarm node ls
        piswarm node ls --json | jq -r '.[] | select(.role == "manager") | .name'
      """,
    aliases: ["list"]
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let loaded = try global.loadCluster(printWarnings: false)
      if json {
        Console.out(try Console.json(NodeListing.entries(loaded.cluster)))
      } else {
        Console.out(NodeListing.table(loaded.cluster))
      }
    }
  }
}
