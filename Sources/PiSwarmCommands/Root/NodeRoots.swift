import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

/// Making node roots, shared by 'root make', 'netboot apply' and the netboot step of 'up' and
/// 'plan' (a dry run there).
enum NodeRoots {
  /// The cluster's SSH public key line (ssh.key's .pub, or the one 'piswarm init' made).
  static func authorizedKey(_ cluster: Cluster, global: GlobalOptions) throws(PiSwarmError) -> String {
    try authorizedKey(cluster, defaultKey: global.defaultKey)
  }

  /// The same, with the key 'piswarm init' made at `defaultKey`.
  static func authorizedKey(_ cluster: Cluster, defaultKey: String) throws(PiSwarmError) -> String {
    let keyPath = (cluster.ssh.key.map(Files.expandTilde) ?? defaultKey) + ".pub"
    do { return String(decoding: try Files.read(keyPath), as: UTF8.self) } catch {
      throw PiSwarmError(
        .notFound, "the cluster's SSH public key \(keyPath) is missing",
        advice: "run 'piswarm init' to make the key pair, or set ssh.key to a key whose .pub is beside it")
    }
  }

  /// What making roots from `image` needs, set up once: the cluster's public key, the image
  /// (imported), the method for new roots, the roots made before (an existing root keeps the
  /// method and image it was made with). A dry run (`plan`) writes, mounts and records nothing.
  struct Session {
    let image: String
    let maker: RootMaker
    /// The method for new roots; nil in a dry run (a root to make is not looked into).
    let method: RootMethod?
    let authorizedKey: String
    let headIP: IPv4Address
    let cluster: Cluster
    let store: SQLiteStateStore?
    let recorded: [String: NodeRootRecord]

    init(
      _ cluster: Cluster, image: String, method: RootMethod?, stateDirectory: String, authorizedKey: String,
      store: SQLiteStateStore?, dryRun: Bool
    ) throws(PiSwarmError) {
      self.authorizedKey = authorizedKey
      guard let store, try store.image(named: image) != nil else {
        throw PiSwarmError(
          .notFound, "image \(image) (defaults.image) is not imported",
          advice: "import it with 'piswarm image import FILE --name \(image)'")
      }
      var maker = RootMaker(nfsRoot: cluster.head.nfsRoot, stateDirectory: stateDirectory)
      maker.dryRun = dryRun
      if dryRun {
        self.method = nil
      } else {
        // What a killed run left half-made goes first.
        for path in maker.sweepAbandoned() { Console.err("removed \(path), left by an interrupted run") }
        let chosen = try maker.method(method)
        Console.err("making node roots in \(cluster.head.nfsRoot) by \(chosen.rawValue)")
        self.method = chosen
      }
      self.maker = maker
      self.image = image
      self.cluster = cluster
      self.store = store
      headIP = cluster.head.address.address
      recorded = Dictionary(uniqueKeysWithValues: try store.roots().map { ($0.node, $0) })
    }

    /// Makes (or converges) `node`'s root and records it; a dry run says what it would do.
    func make(_ node: Node) throws(PiSwarmError) -> RootResult {
      let existing = recorded[node.name].flatMap { Files.exists($0.path) ? $0 : nil }
      // A dry run of a root made without a record: an upper folder says overlay.
      let guessed: RootMethod = Files.exists(maker.layout.upper(node.name)) ? .overlay : .copy
      // The generation the node boots (see 'piswarm upgrade'): its identity converges there.
      let generation = existing.flatMap { maker.layout.generationNumber(of: $0.path, node: node.name) } ?? 1
      let result = try maker.make(
        node: node, image: existing?.image ?? image, method: existing?.rootMethod ?? method ?? guessed, headIP: headIP,
        authorizedKey: authorizedKey, daemon: DaemonConfig.Settings(cluster, node), generation: generation)
      if !maker.dryRun, let store {
        try store.recordRoot(
          NodeRootRecord(
            node: node.name, image: result.image, method: result.method.rawValue, path: result.path,
            hostKey: result.hostKeyFingerprint, createdAt: Date(), updatedAt: Date()))
      }
      return result
    }

    /// What a run did to `node`'s root, for stderr and the notes of `up`'s action.
    static func said(_ result: RootResult) -> String {
      "\(result.created ? "made by \(result.method.rawValue)" : "exists") "
        + "(\(String(format: "%.3f", result.seconds)) s), \(result.changed.count) identity file(s) written"
    }
  }

  /// Makes (or converges) the roots of `nodes` from `image`. A node that fails does not stop
  /// the others; `failed` says whether one did.
  static func make(
    _ cluster: Cluster, nodes: [Node], image: String, method: RootMethod?, global: GlobalOptions, journal: Journal
  ) throws(PiSwarmError) -> (results: [RootResult], failed: Bool) {
    let session = try Session(
      cluster, image: image, method: method, stateDirectory: global.stateDirectory,
      authorizedKey: try authorizedKey(cluster, global: global), store: journal.store, dryRun: false)
    var results: [RootResult] = []
    var failed = false
    for node in nodes {
      // Interrupted: the root under way was finished; the others wait for the next run.
      if Cancellation.isCancelled { break }
      let started = Date()
      do throws(PiSwarmError) {
        let result = try session.make(node)
        try journal.step(node: node.name, "root", .succeeded, started: started)
        Console.err("\(node.name): \(Session.said(result))")
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
