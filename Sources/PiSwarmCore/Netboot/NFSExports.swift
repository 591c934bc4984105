/// NFS exports of the netboot nodes' roots: one per node, open only to that node's address.
/// Never `*` with `no_root_squash`.
public enum NFSExports {
  public static func netbootNodes(_ cluster: Cluster) -> [Node] { cluster.nodes.filter { $0.boot == .netboot } }

  /// Lines for nfs-kernel-server's `/etc/exports` (or a file in `/etc/exports.d/`).
  public static func exports(_ cluster: Cluster) throws(PiSwarmError) -> String {
    var lines = ["# Rendered by piswarm from the cluster file of \(cluster.name); 'piswarm netboot apply' overwrites edits."]
    for node in netbootNodes(cluster) {
      let path = BootFiles.rootPath(node, in: cluster)
      try check(path, node)
      lines.append("\(path) \(node.ip)(rw,sync,no_subtree_check,no_root_squash)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// An Export_Id for every netboot node: the node's offset in the subnet, so that it stays the
  /// same while the node keeps its address, whatever else changes in the file. Ids are 16 bits;
  /// on a subnet larger than /16 the low 16 bits are used and a clash is an error.
  public static func exportIDs(_ cluster: Cluster) throws(PiSwarmError) -> [String: Int] {
    var ids: [String: Int] = [:]
    var owners: [Int: String] = [:]
    let network = cluster.head.address.network.value
    for node in netbootNodes(cluster) {
      var id = Int((node.ip.value &- network) & 0xFFFF)
      if id == 0 { id = 0xFFFF }  // 0 is the pseudo root's
      if let other = owners[id] {
        throw PiSwarmError(
          .invalidInput, "nodes \(other) and \(node.name) would share the NFS Export_Id \(id)",
          advice: "give nodes addresses that differ in their last 16 bits (a /16 or smaller cluster network)")
      }
      owners[id] = node.name
      ids[node.name] = id
    }
    return ids
  }

  /// nfs-ganesha's configuration with the same exports (the lab's userspace NFS server),
  /// listening on the head's address, with stable Export_Ids.
  public static func ganesha(_ cluster: Cluster, recoveryRoot: String) throws(PiSwarmError) -> String {
    let ids = try exportIDs(cluster)
    var exports: [GaneshaRootExports.Export] = []
    for node in netbootNodes(cluster) {
      let path = BootFiles.rootPath(node, in: cluster)
      try check(path, node)
      exports.append(.init(node: node.name, id: ids[node.name], client: node.ip, path: path))
    }
    try check(recoveryRoot, nil)
    return GaneshaRootExports(exports: exports, recoveryRoot: recoveryRoot, bindAddress: cluster.head.address.address).render()
  }

  static func check(_ path: String, _ node: Node?) throws(PiSwarmError) {
    let what = node.map { "the NFS root of \($0.name)" } ?? "ganesha's recovery folder"
    try SingleLine.check(path, what: what)
    if path.contains("\"") || path.contains(" ") {
      throw PiSwarmError(
        .invalidInput, "\(what) \"\(path)\" holds a quote or a space",
        advice: "choose a head.nfs_root without spaces or quotes")
    }
  }
}
