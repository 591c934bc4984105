import ArgumentParser
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem

struct RootEnsure: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ensure",
    abstract: "Mount again what overlay roots need (after the head restarted); changes nothing otherwise.",
    discussion: """
      Reads the roots from the state store, not the cluster file, so it can run early at boot.

      Example:
        piswarm root ensure
      """
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    try reporting {
      guard Files.exists(global.stateDirectory + "/" + SQLiteStateStore.fileName) else { return }
      try global.mutating(commandLine) { (journal) throws(PiSwarmError) in
        let roots = try journal.store.roots()
        for nfsRoot in Set(roots.map(\.nfsRoot)).sorted() {
          let maker = RootMaker(nfsRoot: nfsRoot, stateDirectory: global.stateDirectory)
          // Every generation kept (current, previous, older), each over its own image: a
          // node's first generation may be over another image than the one it boots now.
          for root in roots where root.nfsRoot == nfsRoot {
            for point in try maker.ensure(generations: try root.generations(journal.store)) {
              Console.out("mounted \(point)\n")
            }
          }
        }
      }
    }
  }
}
