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

  /// nfs-ganesha's configuration with the same exports (the lab's userspace NFS server).
  public static func ganesha(_ cluster: Cluster) throws(PiSwarmError) -> String {
    let ids = try exportIDs(cluster)
    var out = """
      # Rendered by piswarm from the cluster file of \(cluster.name); 'piswarm netboot apply' overwrites edits.
      NFS_CORE_PARAM {
        # NFSv3 clients mount by the pseudo path.
        Mount_Path_Pseudo = true;
        Protocols = 3, 4;
      }

      NFSV4 {
        # No 90 s grace period after a restart.
        Graceless = true;
        Only_Numeric_Owners = true;
      }

      """
    for node in netbootNodes(cluster) {
      let path = BootFiles.rootPath(node, in: cluster)
      try check(path, node)
      out += """

        # \(node.name)
        EXPORT {
          Export_Id = \(ids[node.name] ?? 0);
          Path = "\(path)";
          Pseudo = "\(path)";
          Protocols = 3, 4;
          Transports = TCP;
          # Nobody but the node's own address.
          Access_Type = None;
          Squash = No_Root_Squash;
          FSAL {
            Name = VFS;
          }
          CLIENT {
            Clients = \(node.ip);
            Access_Type = RW;
          }
        }

        """
    }
    return out
  }

  static func check(_ path: String, _ node: Node) throws(PiSwarmError) {
    try SingleLine.check(path, what: "the NFS root of \(node.name)")
    if path.contains("\"") || path.contains(" ") {
      throw PiSwarmError(
        .invalidInput, "the NFS root \"\(path)\" of \(node.name) holds a quote or a space",
        advice: "choose a head.nfs_root without spaces or quotes")
    }
  }
}
