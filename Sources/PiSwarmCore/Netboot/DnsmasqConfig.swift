/// The dnsmasq configuration that answers the nodes' boot requests: proxy-DHCP or full DHCP, and
/// TFTP from one folder per node. Rendered from the cluster; no I/O.
public enum DnsmasqConfig {
  /// The PXE menu text the Pi boot ROM looks for. Early ROMs compare the whole string, padding
  /// included: three trailing spaces.
  public static let menuText = "Raspberry Pi Boot   "

  /// Paths and switches that come from piswarm's own layout rather than from `cluster.yml`.
  public struct Options: Hashable, Sendable {
    /// The `dhcp-script`: piswarm's hook, which records dnsmasq's events as boot events.
    public var hookScript: String
    /// dnsmasq's own log (`log-facility`): proxy-mode requests are only seen there.
    public var logFile: String
    /// The lease database, in piswarm's state directory rather than dnsmasq's default.
    public var leaseFile: String
    /// Extra option lines, one option each (for tests: `no-ping`, or the first offer waits 3 s).
    /// None by default.
    public var extra: [String]

    public init(hookScript: String, logFile: String, leaseFile: String, extra: [String] = []) {
      self.hookScript = hookScript
      self.logFile = logFile
      self.leaseFile = leaseFile
      self.extra = extra
    }
  }

  /// The whole file. Throws when a value would break out of its line.
  public static func render(_ cluster: Cluster, _ options: Options) throws(PiSwarmError) -> String {
    let head = cluster.head
    let subnet = head.address
    var out = Lines()
    out.comment("Rendered by piswarm from the cluster file of \(cluster.name); 'piswarm netboot apply' overwrites edits.")
    out.comment("No DNS: this dnsmasq only answers the nodes' boot requests (DHCP and TFTP).")
    try out.option("port", "0")
    try out.option("bind-interfaces")
    try out.option("interface", head.interface)
    try out.option("log-facility", options.logFile)
    try out.option("log-dhcp")
    try out.option("dhcp-leasefile", options.leaseFile)
    out.comment("Leases, completed TFTP transfers and ARP changes go to piswarm's hook (boot events).")
    try out.option("dhcp-script", options.hookScript)
    try out.option("script-arp")
    out.blank()
    out.comment("TFTP: one folder per node, named by its MAC (b8-27-eb-…) or its serial (Pi 4/5).")
    out.comment("The root itself holds no boot files, so that an unknown machine gets nothing.")
    try out.option("enable-tftp")
    try out.option("tftp-root", head.tftpRoot)
    try out.option("tftp-unique-root", "mac")
    out.comment("A rack powers on at once: every board reads its files at the same time (the default is 50).")
    try out.option("tftp-max", String(tftpMax(cluster)))
    switch head.lan {
    case .none:
      out.blank()
      out.comment("lan: none: no DHCP from piswarm; another server points the nodes here.")
    case .proxy:
      out.blank()
      out.comment("lan: proxy: the router hands out addresses; this only adds the Pi boot menu.")
      try out.option("dhcp-match", "set:ipxe,175")
      try out.option("pxe-service", "tag:!ipxe,0,\"\(menuText)\"")
      try out.option("dhcp-range", "\(subnet.network),proxy,\(subnet.netmask)")
    case .dhcp:
      out.blank()
      out.comment("lan: dhcp: piswarm is the DHCP server of this network, one static lease per node.")
      try out.option("dhcp-match", "set:ipxe,175")
      try out.option("pxe-service", "tag:!ipxe,0,\"\(menuText)\"")
      if let range = head.dhcpRange {
        try out.option("dhcp-range", "\(range.lowerBound),\(range.upperBound),\(subnet.netmask),12h")
      } else {
        try out.option("dhcp-range", "\(subnet.network),static,\(subnet.netmask)")
      }
      try out.option("dhcp-authoritative")
      try out.option("dhcp-lease-max", String(leaseMax(cluster)))
      for node in cluster.nodes {
        guard let mac = node.mac else { continue }
        // A netbooted node's address is configured once, by its initramfs, and nothing on the
        // node renews it (its interface is left to the kernel: the root is on it): the lease
        // must not run out.
        try out.option("dhcp-host", "\(mac),\(node.ip),\(node.name)" + (node.boot == .netboot ? ",infinite" : ""))
      }
    }
    if !options.extra.isEmpty {
      out.blank()
      out.comment("Extra options.")
      for line in options.extra { try out.option(line) }
    }
    return out.text
  }

  /// Concurrent TFTP transfers: two per netboot node (the firmware checks a file's size in a
  /// request of its own, ended by "Early terminate", right before it reads the file) and room for
  /// a few strangers; never below dnsmasq's default of 50.
  public static func tftpMax(_ cluster: Cluster) -> Int {
    max(50, 2 * NFSExports.netbootNodes(cluster).count + 10)
  }

  /// Leases: every node, the whole pool, and room; never below dnsmasq's default of 1,000.
  public static func leaseMax(_ cluster: Cluster) -> Int {
    let pool = cluster.head.dhcpRange.map { Int($0.upperBound.value) - Int($0.lowerBound.value) + 1 } ?? 0
    return max(1000, cluster.nodes.count + pool + 10)
  }

  struct Lines {
    var lines: [String] = []
    var text: String { lines.joined(separator: "\n") + "\n" }

    mutating func comment(_ text: String) { lines.append("# " + text) }
    mutating func blank() { lines.append("") }

    mutating func option(_ name: String, _ value: String? = nil) throws(PiSwarmError) {
      let line = value.map { "\(name)=\($0)" } ?? name
      try SingleLine.check(line, what: "dnsmasq option \(name)")
      lines.append(line)
    }
  }
}
