import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

struct RootMake: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "make",
    abstract: "Make the root filesystems of netboot nodes, and write each node's identity into it.",
    discussion: """
      A root that exists is left as it is; its identity files are rewritten only when they
      changed. The method is printed on stderr.

      Examples:
        piswarm root make
        piswarm root make node01,node02 --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "all, managers, workers, label=KEY=VALUE, or node names (node01,node02 or node[01-03]).")
  var target = "all"

  @Option(help: "snapshot, overlay, reflink or copy (default: the best the NFS root's filesystem offers).")
  var method: RootMethod?

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    var failed = false
    Interrupts.install(signalChildren: false)
    try reporting {
      let loaded = try global.loadCluster()
      let cluster = loaded.cluster
      let nodes = try Targets.resolve(target, in: cluster).get().filter { $0.boot == .netboot }
      guard let image = cluster.defaults.image else {
        throw PiSwarmError(
          .invalidInput, "\(loaded.path) names no image (defaults.image)",
          advice: "import one with 'piswarm image import FILE --name NAME' and set defaults.image: NAME")
      }
      let results = try global.mutating(commandLine) { (journal) throws(PiSwarmError) -> [RootResult] in
        let made = try NodeRoots.make(cluster, nodes: nodes, image: image, method: method, global: global, journal: journal)
        failed = made.failed
        return made.results
      }
      try Interrupts.finish("the roots of some nodes were not made")
      if json {
        Console.out(try Console.json(results))
      } else {
        Console.out(
          TextTable.render(
            header: ["NODE", "METHOD", "STATE", "WRITTEN", "HOST KEY"],
            rows: results.map {
              [$0.node, $0.method.rawValue, $0.created ? "made" : "existed", String($0.changed.count), $0.hostKeyFingerprint]
            }))
      }
    }
    if failed { throw Exit.failure }
  }
}

extension RootMethod: ExpressibleByArgument {}
