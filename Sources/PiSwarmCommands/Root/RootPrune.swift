import ArgumentParser
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem

struct RootPrune: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prune",
    abstract: "Remove the root generations of nodes that are neither current nor previous.",
    discussion: """
      Each netboot node keeps the generation it boots (current) and the one it booted before
      (previous: what 'piswarm rollback' boots). Older ones, and ones made by an upgrade that
      stopped before it switched to them, go.

      Examples:
        piswarm root prune
        piswarm root prune node03 --dry-run
        piswarm root prune all --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "all, or the node whose generations to prune.")
  var node = "all"

  @Flag(help: "Say what would be removed; remove nothing.")
  var dryRun = false

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Removed: Encodable {
    var node: String
    var generation: Int
    var image: String
    var path: String
    var removed: Bool
  }

  func run() throws {
    try reporting {
      let removed = try global.mutating(commandLine) { (journal) throws(PiSwarmError) -> [Removed] in
        let store = journal.store
        let roots = try store.roots()
        if node != "all", !roots.contains(where: { $0.node == node }) {
          throw PiSwarmError(
            .notFound, "no root for \(node)\(Suggestion.hint(for: node, in: roots.map(\.node)))",
            advice: "see 'piswarm root ls'")
        }
        var removed: [Removed] = []
        for root in roots where node == "all" || root.node == node {
          let (keep, remove) = RootGenerations.prune(try root.generations(store))
          guard !remove.isEmpty else { continue }
          let maker = RootMaker(nfsRoot: root.nfsRoot, stateDirectory: global.stateDirectory)
          var left = keep
          for generation in remove {
            if !dryRun {
              do throws(PiSwarmError) {
                try maker.removeGeneration(node: root.node, generation)
              } catch {
                // What could not go stays recorded, to be pruned again.
                left.append(generation)
                try store.recordGenerations(node: root.node, left.sorted { $0.number < $1.number })
                throw error
              }
            }
            removed.append(
              Removed(
                node: root.node, generation: generation.number, image: generation.image, path: generation.path,
                removed: !dryRun))
          }
          if !dryRun { try store.recordGenerations(node: root.node, left) }
        }
        return removed
      }
      if json {
        Console.out(try Console.json(removed))
      } else if removed.isEmpty {
        Console.err("nothing to prune: every node has only its current and previous root\n")
      } else {
        Console.out(
          TextTable.render(
            header: ["NODE", "GENERATION", "IMAGE", "PATH", dryRun ? "WOULD REMOVE" : "REMOVED"],
            rows: removed.map { [$0.node, String($0.generation), $0.image, $0.path, "yes"] }))
      }
    }
  }
}
