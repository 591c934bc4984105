/// The head: the machine running piswarm, serving DHCP/TFTP/NFS to the nodes.
public struct Head: Hashable, Sendable {
  public var interface: String
  public var address: IPv4Interface
  public var lan: LANMode
  public var dhcpRange: ClosedRange<IPv4Address>?
  public var tftpRoot: String
  public var nfsRoot: String
  public var dnsmasqConf: String
  /// `nat:`: the uplink interface the cluster subnet is masqueraded out of; nil: no NAT.
  public var nat: String? = nil
  /// `nfs_reload:`: the command (an argument list, the program an absolute path) that makes the
  /// head's NFS server serve changed exports, run after piswarm's exports files changed, in
  /// place of its own `exportfs -ra` / `systemctl restart nfs-ganesha`; nil: piswarm's own.
  public var nfsReload: [String]? = nil
  /// `dnsmasq_restart:`: the command (an argument list, the program an absolute path) that makes
  /// the head's dnsmasq read its changed configuration, run in place of `systemctl restart
  /// dnsmasq` (a head without systemd, a dnsmasq run by hand); nil: systemd's.
  public var dnsmasqRestart: [String]? = nil

  public static let defaultTFTPRoot = "/srv/piswarm/tftp"
  public static let defaultNFSRoot = "/srv/piswarm/nfs"
  public static let defaultDnsmasqConf = "/etc/dnsmasq.d/piswarm.conf"
}
