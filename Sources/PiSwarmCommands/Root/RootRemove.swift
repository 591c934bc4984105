import ArgumentParser
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem

struct RootRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove a node's root filesystem (everything the node wrote into it goes too).",
    discussion: """
      Every generation of the node's root goes. When it was the last root made from its image in that NFS root, the image's base there goes
      too (an overlay base is unmounted).

      Example:
        piswarm root rm node03
      """,
    aliases: ["remove"]
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The nodes whose roots to remove.")
  var nodes: [String]

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { (journal) throws(PiSwarmError) in
        let state = journal.store
        let roots = try state.roots()
        for name in nodes {
          guard let root = roots.first(where: { $0.node == name }) else {
            throw PiSwarmError(
              .notFound, "no root for \(name)\(Suggestion.hint(for: name, in: roots.map(\.node)))",
              advice: "see 'piswarm root ls'")
          }
          let maker = RootMaker(nfsRoot: root.nfsRoot, stateDirectory: global.stateDirectory)
          // Every generation after the first, then the first (NFS_ROOT/NODE) with its host key.
          for generation in try root.generations(state) where generation.number > 1 {
            try maker.removeGeneration(node: name, generation)
          }
          try maker.remove(node: name, method: root.rootMethod)
          try state.removeGenerations(node: name)
          try state.removeRoot(node: name)
          Console.out("removed the root of \(name)\n")
          // The base goes with the last root of its kind (overlay lower, or subvolume/tree).
          let others = try state.roots(image: root.image).filter {
            $0.nfsRoot == root.nfsRoot && ($0.rootMethod == .overlay) == (root.rootMethod == .overlay)
          }
          if others.isEmpty { try maker.removeBase(image: root.image, method: root.rootMethod) }
        }
      }
    }
  }
}
