import Yams

/// The `head:` section: interface, address, LAN mode, DHCP range, served folders.
extension ClusterReader {
  mutating func head(_ top: [String: Entry], _ root: Yams.Node) -> Head? {
    guard let entry = top["head"] else {
      error(root, "the cluster file needs a \"head\" section: the interface and address of this machine on the cluster network")
      return nil
    }
    guard let fields = mapping(entry.value, "head", keys: Self.headKeys) else { return nil }
    let at = entry.key
    let interface = required(fields, "interface", in: "head", at: at, example: "eth1").flatMap { name, node in
      HostName.isInterfaceName(name)
        ? name
        : {
          error(
            node,
            "head.interface \"\(name.terminalSafe)\" is not a single network interface name: 1 to 15 letters, digits, '.', '_' or '-' (dnsmasq reads '*' as a wildcard and ',' as a list), e.g. eth1"
          );
          return nil
        }()
    }
    var address: IPv4Interface?
    if let (raw, node) = required(fields, "address", in: "head", at: at, example: "192.168.50.1/24") {
      address = headAddress(raw, node)
    }
    let lan = fields["lan"].map { enumValue($0.value, "head.lan", as: LANMode.self) } ?? .proxy
    var range: ClosedRange<IPv4Address>?
    if let entry = fields["dhcp_range"], let raw = text(entry.value, "head.dhcp_range") {
      if lan != .dhcp {
        error(
          entry.key,
          "head.dhcp_range is only used with lan: dhcp (lan is \(lan?.rawValue ?? "invalid")); remove it or set lan: dhcp")
      } else if let address {
        range = dhcpRange(raw, entry.value, address)
      }
    }
    let tftp = path(fields["tftp_root"], "head.tftp_root", example: Head.defaultTFTPRoot, folder: true)
    let nfs = path(fields["nfs_root"], "head.nfs_root", example: Head.defaultNFSRoot, folder: true)
    let conf = path(fields["dnsmasq_conf"], "head.dnsmasq_conf", example: Head.defaultDnsmasqConf, folder: false)
    checkApart(
      tftp: (tftp, fields["tftp_root"]?.value), nfs: (nfs, fields["nfs_root"]?.value), conf: (conf, fields["dnsmasq_conf"]?.value)
    )
    let nat = fields["nat"].flatMap { natUplink($0.value, interface: interface) }
    let nfsReload = fields["nfs_reload"].flatMap {
      command($0.value, key: "nfs_reload", example: "[/usr/sbin/rc-service, nfs-ganesha, restart]")
    }
    let dnsmasqRestart = fields["dnsmasq_restart"].flatMap {
      command($0.value, key: "dnsmasq_restart", example: "[/usr/sbin/rc-service, dnsmasq, restart]")
    }
    // Carry on with placeholders after an error, so that the nodes are checked too.
    guard let address else { return nil }
    return Head(
      interface: interface ?? "invalid", address: address, lan: lan ?? .proxy, dhcpRange: range,
      tftpRoot: tftp ?? Head.defaultTFTPRoot, nfsRoot: nfs ?? Head.defaultNFSRoot, dnsmasqConf: conf ?? Head.defaultDnsmasqConf,
      nat: nat, nfsReload: nfsReload, dnsmasqRestart: dnsmasqRestart)
  }

  /// A command of the head's (`head.nfs_reload`, `head.dnsmasq_restart`): a list of arguments,
  /// the first an absolute path (run as root: no PATH lookup), each a single line.
  mutating func command(_ node: Yams.Node, key: String, example argv: String) -> [String]? {
    let example = "\(key): \(argv)"
    if isNull(node) { return nil }
    guard let items = node.sequence else {
      error(node, "head.\(key) must be a list: the program and its arguments, e.g. \(example); found \(kind(of: node))")
      return nil
    }
    var argv: [String] = []
    for item in items {
      guard let scalar = item.scalar else {
        error(item, "an argument of head.\(key) must be plain text, found \(kind(of: item)); e.g. \(example)")
        return nil
      }
      guard !scalar.string.contains(where: \.isNewline), !scalar.string.contains("\0") else {
        error(item, "an argument of head.\(key) holds a line break; give each argument on its own, e.g. \(example)")
        return nil
      }
      argv.append(scalar.string)
    }
    guard let program = argv.first, program.hasPrefix("/") else {
      error(
        node,
        argv.isEmpty
          ? "head.\(key) is an empty list: give the program and its arguments, e.g. \(example), or remove the key"
          : "head.\(key)'s program \"\(argv[0].terminalSafe)\" is not an absolute path: piswarm runs it as root and looks nothing up in PATH; e.g. \(example)"
      )
      return nil
    }
    return argv
  }

  /// `head.nat`: the uplink, an interface name other than the cluster's.
  mutating func natUplink(_ node: Yams.Node, interface: String?) -> String? {
    guard let name = text(node, "head.nat") else { return nil }
    guard HostName.isInterfaceName(name) else {
      error(
        node,
        "head.nat \"\(name.terminalSafe)\" is not a network interface name: give the head's uplink (the interface with the default route), e.g. eth0"
      )
      return nil
    }
    if name == interface {
      error(
        node,
        "head.nat \"\(name)\" is head.interface too: NAT sends the cluster's traffic out of another interface, the head's uplink, e.g. eth0"
      )
      return nil
    }
    return name
  }

  mutating func headAddress(_ raw: String, _ node: Yams.Node) -> IPv4Interface? {
    if IPv4Address(raw) != nil {
      error(node, "head.address \"\(raw)\" has no prefix length; write it with one, e.g. \(raw)/24")
      return nil
    }
    guard let address = IPv4Interface(raw) else {
      error(node, "head.address \"\(raw)\" is not an IPv4 address with a prefix length, e.g. 192.168.50.1/24")
      return nil
    }
    if address.prefixLength > 30 {
      error(
        node,
        "head.address \"\(raw)\": a /\(address.prefixLength) subnet leaves no room for nodes; use a shorter prefix, e.g. /24")
      return nil
    }
    if address.address == address.network || address.address == address.broadcast {
      let which = address.address == address.network ? "network" : "broadcast"
      let example = IPv4Interface(address: IPv4Address(address.network.value + 1), prefixLength: address.prefixLength)
      error(node, "head.address \"\(raw)\" is the subnet's \(which) address; the head needs a host address, e.g. \(example)")
      return nil
    }
    return address
  }

  mutating func dhcpRange(_ raw: String, _ node: Yams.Node, _ head: IPv4Interface) -> ClosedRange<IPv4Address>? {
    let parts = raw.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
    guard parts.count == 2, let low = IPv4Address(parts[0]), let high = IPv4Address(parts[1]) else {
      error(node, "head.dhcp_range \"\(raw)\" is not FIRST-LAST, e.g. 192.168.50.100-192.168.50.199")
      return nil
    }
    guard low <= high else {
      error(node, "head.dhcp_range \"\(raw)\" is empty: \(low) is above \(high); write the lower address first")
      return nil
    }
    guard head.isHost(low), head.isHost(high) else {
      error(node, "head.dhcp_range \"\(raw)\" is not inside the head's subnet \(head.networkDescription)")
      return nil
    }
    if (low...high).contains(head.address) {
      error(node, "head.dhcp_range \"\(raw)\" contains the head's own address \(head.address); move the range")
      return nil
    }
    return low...high
  }

  /// A head path (see `HeadPath`): plain, absolute; for a folder piswarm fills (`folder`), not a
  /// system folder.
  mutating func path(_ entry: Entry?, _ what: String, example: String, folder: Bool) -> String? {
    guard let entry, let raw = text(entry.value, what) else { return nil }
    let shown = raw.terminalSafe
    guard raw.hasPrefix("/") else {
      error(entry.value, "\(what) \"\(shown)\" must be an absolute path, e.g. \(example)")
      return nil
    }
    if let problem = HeadPath.problem(with: raw) {
      error(
        entry.value,
        "\(what) \"\(shown)\" \(problem): head paths are written into NFS exports, dnsmasq's configuration and the nodes' cmdline.txt, which split on such characters; use only letters, digits and / . _ - + @, e.g. \(example)"
      )
      return nil
    }
    if folder, let problem = HeadPath.folderProblem(with: raw) {
      error(
        entry.value,
        "\(what) \"\(shown)\" \(problem): piswarm makes, empties and exports folders in it; give it a folder of its own, e.g. \(example)"
      )
      return nil
    }
    return raw
  }

  /// The TFTP folder, the node-root folder and dnsmasq's configuration must not overlap: nodes
  /// write in their roots, and every booting machine is served the TFTP folder.
  mutating func checkApart(tftp: (String?, Yams.Node?), nfs: (String?, Yams.Node?), conf: (String?, Yams.Node?)) {
    let tftpPath = tftp.0 ?? (tftp.1 == nil ? Head.defaultTFTPRoot : nil)
    let nfsPath = nfs.0 ?? (nfs.1 == nil ? Head.defaultNFSRoot : nil)
    let confPath = conf.0 ?? (conf.1 == nil ? Head.defaultDnsmasqConf : nil)
    let advice = "keep them apart, e.g. tftp_root: \(Head.defaultTFTPRoot) and nfs_root: \(Head.defaultNFSRoot)"
    if let tftpPath, let nfsPath, tftp.1 != nil || nfs.1 != nil {
      // Reported at the one written later in the file (or the only one written).
      let nfsLater = tftp.1 == nil || (nfs.1 != nil && location(nfs.1) > location(tftp.1))
      if HeadPath.normalized(tftpPath) == HeadPath.normalized(nfsPath) {
        let (what, path, other, node) =
          nfsLater ? ("nfs_root", nfsPath, "tftp_root", nfs.1) : ("tftp_root", tftpPath, "nfs_root", tftp.1)
        error(
          node,
          "head.\(what) \"\(path)\" is head.\(other) too: nodes write in their roots, and every booting machine is served the TFTP folder; \(advice)"
        )
      } else if HeadPath.contains(nfsPath, tftpPath) {
        error(
          tftp.1 ?? nfs.1,
          "head.tftp_root \"\(tftpPath)\" is inside head.nfs_root \"\(nfsPath)\", where the nodes write; \(advice)")
      } else if HeadPath.contains(tftpPath, nfsPath) {
        error(
          nfs.1 ?? tftp.1,
          "head.nfs_root \"\(nfsPath)\" is inside head.tftp_root \"\(tftpPath)\", which every booting machine is served; \(advice)"
        )
      }
    }
    if let confPath {
      for (name, root, node) in [("nfs_root", nfsPath, nfs.1), ("tftp_root", tftpPath, tftp.1)] {
        guard let root, conf.1 != nil || node != nil, HeadPath.contains(root, confPath) else { continue }
        error(
          conf.1 ?? node,
          "head.dnsmasq_conf \"\(confPath)\" is inside head.\(name) \"\(root)\": dnsmasq, running as root, reads it; put it outside both, e.g. \(Head.defaultDnsmasqConf)"
        )
        break
      }
    }
  }
}
