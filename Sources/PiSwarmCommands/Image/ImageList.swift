import ArgumentParser
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem

struct ImageList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List imported images.",
    discussion: """
      Examples:
        piswarm image ls
        piswarm image ls --json | jq -r '.[].name'
      """,
    aliases: ["list"]
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      var entries: [ImageListing.Entry] = []
      if Files.exists(global.stateDirectory + "/" + SQLiteStateStore.fileName) {
        let state = try SQLiteStateStore(stateDirectory: global.stateDirectory)
        let roots = try state.roots()
        entries = try state.images().map { image in
          ImageListing.Entry(image, roots: roots.filter { $0.image == image.name }.map(\.node))
        }
      }
      Console.out(json ? try Console.json(entries) : ImageListing.table(entries))
    }
  }
}
