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

/// Making node roots, shared by 'root make' and 'netboot apply'.
enum NodeRoots {
  /// Makes (or converges) the roots of `nodes` from `image`. A node that fails does not stop
  /// the others; `failed` says whether one did.
  static func make(
    _ cluster: Cluster, nodes: [Node], image: String, method: RootMethod?, global: GlobalOptions, journal: Journal
  ) throws(PiSwarmError) -> (results: [RootResult], failed: Bool) {
    let keyPath = (cluster.ssh.key.map(Files.expandTilde) ?? global.defaultKey) + ".pub"
    let authorizedKey: String
    do { authorizedKey = String(decoding: try Files.read(keyPath), as: UTF8.self) } catch {
      throw PiSwarmError(
        .notFound, "the cluster's SSH public key \(keyPath) is missing",
        advice: "run 'piswarm init' to make the key pair, or set ssh.key to a key whose .pub is beside it")
    }
    let state = journal.store
    guard try state.image(named: image) != nil else {
      throw PiSwarmError(
        .notFound, "image \(image) (defaults.image) is not imported",
        advice: "import it with 'piswarm image import FILE --name \(image)'")
    }
    let maker = RootMaker(nfsRoot: cluster.head.nfsRoot, stateDirectory: global.stateDirectory)
    let chosen = try maker.method(method)
    Console.err("making node roots in \(cluster.head.nfsRoot) by \(chosen.rawValue)")
    let recorded = Dictionary(uniqueKeysWithValues: try state.roots().map { ($0.node, $0) })
    var results: [RootResult] = []
    var failed = false
    for node in nodes {
      // Interrupted: the root under way was finished; the others wait for the next run.
      if Cancellation.isCancelled { break }
      let started = Date()
      // An existing root keeps the method and image it was made with.
      let existing = recorded[node.name].flatMap { Files.exists($0.path) ? $0 : nil }
      do throws(PiSwarmError) {
        let result = try maker.make(
          node: node, image: existing?.image ?? image, method: existing?.rootMethod ?? chosen,
          headIP: cluster.head.address.address, authorizedKey: authorizedKey, daemon: DaemonConfig.Settings(cluster, node))
        try state.recordRoot(
          NodeRootRecord(
            node: node.name, image: result.image, method: result.method.rawValue, path: result.path,
            hostKey: result.hostKeyFingerprint, createdAt: Date(), updatedAt: Date()))
        try journal.step(node: node.name, "root", status: "succeeded", started: started)
        Console.err(
          "\(node.name): \(result.created ? "made by \(result.method.rawValue)" : "exists") "
            + "(\(String(format: "%.3f", result.seconds)) s), \(result.changed.count) identity file(s) written")
        results.append(result)
      } catch {
        failed = true
        Console.err("\(node.name): error: \(error)")
        try journal.step(node: node.name, "root", status: "failed", started: started, error: error.description)
      }
    }
    return (results, failed)
  }
}
