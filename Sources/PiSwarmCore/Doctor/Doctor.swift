/// `piswarm doctor`: what is wrong with the head and the LAN, each finding with what to do. The
/// probes (a DHCP discover, processes, free space, the clock, SSH, stored facts) happen at the
/// edge; every judgement here is pure.
public enum Doctor {
  /// One finding: a check, where, how bad, what was seen, and what to do.
  public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable, Comparable {
      case ok, warning, error

      var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
      public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var check: String
    public var place: String
    public var severity: Severity
    public var message: String
    public var advice: String?

    public init(_ check: String, _ place: String, _ severity: Severity, _ message: String, advice: String? = nil) {
      self.check = check
      self.place = place
      self.severity = severity
      self.message = message
      self.advice = advice
    }
  }

  /// An answer to the head's DHCPDISCOVER.
  public struct Offer: Sendable, Equatable {
    /// The server's identifier (option 54), else the packet's source.
    public var server: IPv4Address
    /// The address offered; 0.0.0.0 for a proxy-DHCP (PXE-only) answer.
    public var address: IPv4Address
    /// Whether it carries the "Raspberry Pi Boot" PXE menu.
    public var piMenu: Bool

    public init(server: IPv4Address, address: IPv4Address, piMenu: Bool) {
      self.server = server
      self.address = address
      self.piMenu = piMenu
    }
  }

  // MARK: - DHCP

  /// The DHCP servers that answered on the cluster network, judged by `head.lan`: piswarm's own
  /// dnsmasq answers from the head's address; in dhcp mode any other server competes with it,
  /// in proxy mode exactly one other server (the router) should give addresses and none other
  /// may offer Pi boot.
  public static func dhcp(_ offers: [Offer], head: Head) -> [Finding] {
    let iface = head.interface
    var others: [IPv4Address: Offer] = [:]
    for offer in offers where offer.server != head.address.address {
      var merged = others[offer.server] ?? offer
      merged.piMenu = merged.piMenu || offer.piMenu
      if merged.address.value == 0 { merged.address = offer.address }
      others[offer.server] = merged
    }
    let foreign = others.values.sorted { $0.server < $1.server }
    let leasing = foreign.filter { $0.address.value != 0 }
    let booting = foreign.filter(\.piMenu)
    func describe(_ offer: Offer) -> String {
      offer.address.value == 0 ? "\(offer.server) (boot information only)" : "\(offer.server) (offered \(offer.address))"
    }
    var findings: [Finding] = []
    switch head.lan {
    case .dhcp:
      if !foreign.isEmpty {
        findings.append(
          Finding(
            "dhcp", "lan", .error,
            "another DHCP server answers on \(iface): \(foreign.map(describe).joined(separator: ", ")); nodes may take its address and boot without piswarm's files",
            advice:
              "switch that server off on the cluster network, or, if it is the network's router, set head.lan: proxy in cluster.yml so piswarm only adds boot information"
          ))
      }
    case .proxy:
      if leasing.isEmpty {
        findings.append(
          Finding(
            "dhcp", "lan", .warning,
            "no DHCP server gave an address on \(iface): in lan: proxy the network's router hands out the nodes' addresses",
            advice: "check the router's DHCP server, or set head.lan: dhcp so that piswarm hands out the addresses"))
      } else if leasing.count > 1 {
        findings.append(
          Finding(
            "dhcp", "lan", .warning,
            "\(leasing.count) DHCP servers hand out addresses on \(iface): \(leasing.map(describe).joined(separator: ", "))",
            advice: "keep one DHCP server on the cluster network (the router); switch the others off"))
      }
      for offer in booting {
        findings.append(
          Finding(
            "dhcp", "lan", .error,
            "\(offer.server) offers Raspberry Pi network boot on \(iface) too: Pis may boot from it instead of from piswarm",
            advice:
              "switch off that server's PXE/proxy-DHCP service (e.g. another dnsmasq with pxe-service) on the cluster network"))
      }
    case .none:
      break
    }
    if findings.isEmpty {
      let seen =
        foreign.isEmpty ? "no other DHCP server answers" : "other DHCP servers: \(foreign.map(describe).joined(separator: ", "))"
      findings.append(Finding("dhcp", "lan", .ok, "\(seen) on \(iface) (lan: \(head.lan.rawValue))"))
    }
    return findings
  }

  // MARK: - Space, clock, MTU, power

  /// Free space where piswarm writes: under 5% or 1 GiB an error, under 15% or 4 GiB a warning.
  public static func space(_ what: String, path: String, available: UInt64, total: UInt64) -> Finding {
    let gib: UInt64 = 1 << 30
    let percent = total == 0 ? 100 : Int(available * 100 / total)
    let shown =
      "\(what) \(path): \(RegistryReport.size(Int64(clamping: available))) free of \(RegistryReport.size(Int64(clamping: total))) (\(percent)%)"
    let advice =
      "free space on that filesystem (old images: 'piswarm image rm', stopped nodes' roots: 'piswarm root rm') or move \(what) to a larger one"
    if percent < 5 || available < gib { return Finding("space", "head", .error, shown, advice: advice) }
    if percent < 15 || available < 4 * gib { return Finding("space", "head", .warning, shown, advice: advice) }
    return Finding("space", "head", .ok, shown)
  }

  /// The head's clock, from `timedatectl show` (NTP, NTPSynchronized, TimeUSec lines); nil
  /// output: no timedatectl.
  public static func clock(_ timedatectl: String?) -> Finding {
    let advice =
      "Pis have no real-time clock and take their time from the network: a wrong clock makes swarm joins fail (x509 \"not yet valid\"); enable time sync on the head (timedatectl set-ntp true, or install chrony)"
    guard let timedatectl else {
      return Finding(
        "clock", "head", .warning, "cannot tell whether the head's clock is synchronized (no timedatectl)", advice: advice)
    }
    var values: [String: String] = [:]
    for line in timedatectl.split(separator: "\n") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    if values["NTPSynchronized"] == "yes" { return Finding("clock", "head", .ok, "the head's clock is synchronized (NTP)") }
    let ntp = values["NTP"] == "yes" ? "time sync is on but not synchronized yet" : "time sync is off"
    return Finding("clock", "head", .warning, "the head's clock is not synchronized: \(ntp)", advice: advice)
  }

  /// MTUs: every node's (its `mtu` fact) against the head's cluster interface.
  public static func mtu(head: Int?, interface: String, nodes: [String: Int]) -> [Finding] {
    guard let head else {
      return [Finding("mtu", "head", .warning, "cannot read the MTU of \(interface)", advice: "check that head.interface exists")]
    }
    let odd = nodes.filter { $0.value != head }.sorted { $0.key < $1.key }
    if odd.isEmpty {
      return [
        Finding("mtu", "lan", .ok, "\(interface) MTU \(head)\(nodes.isEmpty ? "" : ", the same on \(nodes.count) node(s)")")
      ]
    }
    return odd.map { node, mtu in
      Finding(
        "mtu", node, .warning,
        "MTU \(mtu) on \(node), \(head) on the head's \(interface): large packets (NFS, overlay networks) get lost",
        advice:
          "use one MTU on the cluster network (ip link set DEV mtu \(head), or the switch's jumbo frame setting on every port)")
    }
  }

  /// Nodes whose last facts say throttled or under-voltage (`vcgencmd get_throttled`).
  public static func power(_ throttled: [String: String]) -> [Finding] {
    throttled.sorted { $0.key < $1.key }.compactMap { node, hex in
      let words = NodeFacts.describeThrottled(hex)
      guard words != "no" else { return nil }
      let voltage = words.contains("under-voltage")
      return Finding(
        "power", node, voltage ? .error : .warning, "\(node) reports \(words) (\(hex))",
        advice: voltage
          ? "give it a supply that holds 5.1 V under load (the official 3 A for Pi 4, 5 A for Pi 5; PoE HATs within budget) and a short cable"
          : "cool it (heatsink, fan, airflow in the rack) or lower its load")
    }
  }

  // MARK: - Output

  /// The table: one finding a line, the worst first, advice under each.
  public static func table(_ findings: [Finding]) -> String {
    let sorted = sorted(findings)
    var rows: [[String]] = []
    for finding in sorted {
      rows.append([finding.severity.rawValue, finding.check, finding.place, finding.message.terminalSafe])
      if let advice = finding.advice { rows.append(["", "", "", "→ " + advice.terminalSafe]) }
    }
    return TextTable.render(header: ["SEVERITY", "CHECK", "WHERE", "FINDING"], rows: rows)
  }

  /// The worst first, then by check and place (stable for output and tests).
  public static func sorted(_ findings: [Finding]) -> [Finding] {
    findings.enumerated().sorted { a, b in
      if a.element.severity != b.element.severity { return a.element.severity > b.element.severity }
      return a.offset < b.offset
    }.map(\.element)
  }
}
