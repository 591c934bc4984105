import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

/// Making node roots, shared by 'root make' and 'netboot apply'.
enum NodeRoots {
  /// The cluster's SSH public key line (ssh.key's .pub, or the one 'piswarm init' made).
  static func authorizedKey(_ cluster: Cluster, global: GlobalOptions) throws(PiSwarmError) -> String {
    let keyPath = (cluster.ssh.key.map(Files.expandTilde) ?? global.defaultKey) + ".pub"
    do { return String(decoding: try Files.read(keyPath), as: UTF8.self) } catch {
      throw PiSwarmError(
        .notFound, "the cluster's SSH public key \(keyPath) is missing",
        advice: "run 'piswarm init' to make the key pair, or set ssh.key to a key whose .pub is beside it")
    }
  }

  /// Makes (or converges) the roots of `nodes` from `image`. A node that fails does not stop
  /// the others; `failed` says whether one did.
  static func make(
    _ cluster: Cluster, nodes: [Node], image: String, method: RootMethod?, global: GlobalOptions, journal: Journal
  ) throws(PiSwarmError) -> (results: [RootResult], failed: Bool) {
    let authorizedKey = try authorizedKey(cluster, global: global)
    let state = journal.store
    guard try state.image(named: image) != nil else {
      throw PiSwarmError(
        .notFound, "image \(image) (defaults.image) is not imported",
        advice: "import it with 'piswarm image import FILE --name \(image)'")
    }
    let maker = RootMaker(nfsRoot: cluster.head.nfsRoot, stateDirectory: global.stateDirectory)
    // What a killed run left half-made goes first.
    for path in maker.sweepAbandoned() { Console.err("removed \(path), left by an interrupted run") }
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
        try journal.step(node: node.name, "root", .succeeded, started: started)
        Console.err(
          "\(node.name): \(result.created ? "made by \(result.method.rawValue)" : "exists") "
            + "(\(String(format: "%.3f", result.seconds)) s), \(result.changed.count) identity file(s) written")
        for warning in result.warnings { Console.err("\(node.name): warning: \(warning)") }
        results.append(result)
      } catch {
        failed = true
        Console.err("\(node.name): error: \(error)")
        try journal.step(node: node.name, "root", .failed, started: started, error: error.description)
      }
    }
    return (results, failed)
  }
}
