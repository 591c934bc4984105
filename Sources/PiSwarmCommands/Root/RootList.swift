import ArgumentParser
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem

struct RootList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the node roots piswarm made.",
    discussion: """
      Examples:
        piswarm root ls
        piswarm root ls --json
      """,
    aliases: ["list"]
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      var entries: [RootListing.Entry] = []
      if Files.exists(global.stateDirectory + "/" + SQLiteStateStore.fileName) {
        let store = try SQLiteStateStore(stateDirectory: global.stateDirectory)
        entries = try store.roots().map { (root) throws(PiSwarmError) in
          let ready = root.rootMethod == .overlay ? Filesystems.isMountPoint(root.path) : Files.exists(root.path)
          let generations = try root.generations(store)
          return RootListing.Entry(
            node: root.node, image: root.image, method: root.method, path: root.path, hostKey: root.hostKey, ready: ready,
            generations: generations.map(RootListing.Generation.init))
        }
      }
      Console.out(json ? try Console.json(entries) : RootListing.table(entries))
    }
  }
}
