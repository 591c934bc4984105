import PiSwarmCore

/// Where netboot keeps its own files in the state directory.
public struct NetbootPaths: Sendable {
  public var stateDirectory: String

  public init(stateDirectory: String) { self.stateDirectory = stateDirectory }

  public var folder: String { stateDirectory + "/netboot" }
  /// The `dhcp-script` wrapper.
  public var hookScript: String { folder + "/dnsmasq-hook" }
  /// The hook's spool of boot events (`HookSpool`: `.0`, `.1`, `.count`).
  public var hookSpool: String { folder + "/hook-events" }
  /// dnsmasq's log (`log-facility`).
  public var log: String { folder + "/dnsmasq.log" }
  public var leases: String { folder + "/dnsmasq.leases" }
  /// Present while dnsmasq's configuration changed and piswarm has not restarted it since.
  public var restartPending: String { folder + "/dnsmasq-restart-pending" }
  /// The per-node TFTP folders piswarm made, so that it only ever removes its own.
  public var manifest: String { folder + "/tftp-manifest.json" }
  /// NFS exports for nfs-kernel-server (`/etc/exports` syntax) and for nfs-ganesha.
  public var exports: String { folder + "/exports" }
  public var ganesha: String { folder + "/ganesha.conf" }
  /// Present while the kernel NFS server's exports changed and were not reloaded since.
  public var exportsPending: String { folder + "/exports-reload-pending" }
  /// Present while ganesha's configuration changed and its service was not restarted since.
  public var ganeshaPending: String { folder + "/ganesha-restart-pending" }
  /// Present while the exports changed and the cluster file's `head.nfs_reload` did not run
  /// successfully since.
  public var nfsReloadPending: String { folder + "/nfs-reload-pending" }
  /// nfs-ganesha's NFSv4 client recovery state.
  public var ganeshaRecovery: String { folder + "/ganesha-recovery" }

  /// An image's firmware (the image store's boot folder).
  public func firmware(image: String) -> String { stateDirectory + "/images/" + image + "/boot" }

  public func dnsmasqOptions(extra: [String]) -> DnsmasqConfig.Options {
    DnsmasqConfig.Options(hookScript: hookScript, logFile: log, leaseFile: leases, extra: extra)
  }
}
