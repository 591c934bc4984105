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
      """,
    subcommands: [RootMake.self, RootList.self, RootEnsure.self, RootRemove.self]
  )
}

extension NodeRootRecord {
  var rootMethod: RootMethod { RootMethod(rawValue: method) ?? .copy }
  /// The NFS root the node's root lives in.
  var nfsRoot: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
}
