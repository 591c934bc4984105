/// A service on the head that netboot files changed for: restarted (or reloaded) after they
/// are written, only then. Owed from the change until it succeeds, also across runs.
public enum NetbootRestart: String, Sendable, Equatable, Codable, CaseIterable {
  /// dnsmasq (its configuration changed).
  case dnsmasq
  /// The kernel NFS server's exports (`exportfs -ra`).
  case exports
  /// nfs-ganesha (its configuration changed).
  case ganesha = "nfs-ganesha"
  /// The cluster file's `head.nfs_reload` command (the NFS exports changed).
  case nfsReload = "nfs-reload"

  /// In words, for the CHANGE column.
  public var words: String {
    switch self {
    case .dnsmasq: "restart dnsmasq (its configuration changed)"
    case .exports: "reload the NFS exports (exportfs -ra)"
    case .ganesha: "restart nfs-ganesha (its exports changed)"
    case .nfsReload: "run head.nfs_reload (the NFS exports changed)"
    }
  }

  /// Its action's identity.
  public var id: String {
    switch self {
    case .dnsmasq: "dnsmasq restart"
    case .exports: "NFS exports reload"
    case .ganesha: "nfs-ganesha restart"
    case .nfsReload: "NFS reload command"
    }
  }
}

/// The head's side of netboot as a dry run of `netboot apply` found it: the files a run would
/// write or remove, the restarts it would make, each netboot node's root. Read only for a
/// cluster with netboot nodes; nil otherwise.
public struct NetbootObservation: Sendable, Equatable {
  /// The paths a run would create, update, link or remove (TFTP folders, dnsmasq's
  /// configuration, the exports, the hook script, published firmware), in its order.
  public var changes: [String]
  /// What a run would restart or reload afterwards.
  public var restarts: [NetbootRestart]
  /// Each netboot node's root, by node name; a node without one here is not planned a root
  /// (no defaults.image).
  public var roots: [String: Root]
  /// Why the files could not be computed (the cluster file renders nothing dnsmasq accepts, the
  /// image name is not a plain name): no file is written, and the run says why.
  public var error: String?

  /// A node's root under head.nfs_root.
  public enum Root: Sendable, Equatable {
    /// Not there: made from `image`.
    case missing(image: String)
    /// There, and these paths in it differ from what piswarm writes (identity, netboot OS
    /// changes, Docker's configuration): written again.
    case stale(image: String, paths: [String])
    /// As piswarm would write it: nothing to do.
    case current
    /// Cannot be read or made (the image is not imported), with why.
    case failed(String)
  }

  public init(
    changes: [String] = [], restarts: [NetbootRestart] = [], roots: [String: Root] = [:], error: String? = nil
  ) {
    self.changes = changes
    self.restarts = restarts
    self.roots = roots
    self.error = error
  }
}

extension RunPlanner {
  /// The netboot actions, first of a run (before any node is powered on): each netboot node's
  /// root made or converged, the files on the head, then the restarts they owe. A node whose
  /// root cannot be made is left alone, with why; so is the head's netboot when its files
  /// cannot be rendered.
  static func netboot(_ observed: RunObservation, cluster: Cluster) -> [RunAction] {
    guard let seen = observed.netboot else { return [] }
    var actions: [RunAction] = []
    for node in cluster.nodes where node.boot == .netboot {
      switch seen.roots[node.name] {
      case .missing(let image)?: actions.append(.netbootRoot(node: node, image: image, paths: nil))
      case .stale(let image, let paths)?: actions.append(.netbootRoot(node: node, image: image, paths: paths))
      case .failed(let reason)?: actions.append(.refuseNetboot(node: node.name, reason: "its root cannot be made: \(reason)"))
      case .current?, nil: break
      }
    }
    if let error = seen.error {
      return actions + [.refuseNetboot(node: "head", reason: "the netboot files cannot be written: \(error)")]
    }
    if !seen.changes.isEmpty { actions.append(.netbootFiles(paths: seen.changes, tftpRoot: cluster.head.tftpRoot)) }
    return actions + seen.restarts.map { .netbootRestart($0) }
  }

  /// A path as the CHANGE column shows it: under the TFTP root as `tftp/…`, else its name.
  static func shortPath(_ path: String, tftpRoot: String) -> String {
    let root = tftpRoot.hasSuffix("/") ? String(tftpRoot.dropLast()) : tftpRoot
    if path == root { return "tftp/" }
    if path.hasPrefix(root + "/") { return "tftp/" + path.dropFirst(root.count + 1) }
    return path.split(separator: "/").last.map(String.init) ?? path
  }
}
