import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem

struct RootCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "root",
    abstract: "Make, list, re-mount and remove the per-node root filesystems of netbooted nodes.",
    discussion: """
      Each netboot node gets HEAD.nfs_root/NODE, made from the image in defaults.image by the
      cheapest copy-on-write means the NFS root's filesystem offers: a btrfs snapshot, an overlay
      (index=on,nfs_export=on) over the read-only image, a reflink copy, or as a last resort a
      full copy. Its identity (host name, hosts, machine-id, SSH host key, authorized_keys,
      fstab, network) is written into it; the host key is pinned in STATE/known_hosts.

      Examples:
        piswarm root make
        piswarm root make node[01-03] --method overlay
        piswarm root ls
        piswarm root ensure        # after the head restarted: mount overlay roots again
        piswarm root rm node03
        piswarm root prune          # keep only the current and the previous generation

      A node's root can exist in several generations (after 'piswarm upgrade'): the first at
      NFS_ROOT/NODE, the next ones at NFS_ROOT/.roots/NODE/N; the node boots the current one
      (its cmdline.txt and NFS export point there), 'piswarm rollback' boots the previous one.
      """,
    subcommands: [RootMake.self, RootList.self, RootEnsure.self, RootRemove.self, RootPrune.self]
  )
}

extension NodeRootRecord {
  var rootMethod: RootMethod { RootMethod(rawValue: method) ?? .copy }
  /// The NFS root the node's root lives in (a generation's path is NFS_ROOT/.roots/NODE/N).
  var nfsRoot: String {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
    let roots = folder.deletingLastPathComponent()
    return roots.lastPathComponent == ".roots" && folder.lastPathComponent == node
      ? roots.deletingLastPathComponent().path : folder.path
  }

  /// The node's generations: as recorded, or its one root as generation 1.
  func generations(_ store: SQLiteStateStore) throws(PiSwarmError) -> [RootGeneration] {
    RootGenerations.known(
      recorded: try store.generations(node: node), node: node, image: image, method: rootMethod, path: path)
  }
}
