import Foundation

public enum Discovery {
  /// Machines in `events` that asked to netboot (a PXE request, a request with a `PXEClient`
  /// vendor class, or a TFTP request) and that the cluster file does not know by MAC or serial.
  public static func sightings(_ events: [BootEvent], cluster: Cluster) -> [Sighting] {
    let knownMACs = Set(cluster.nodes.compactMap { $0.mac?.description })
    let knownSerials = Set(cluster.nodes.compactMap(\.serial))
    let root = cluster.head.tftpRoot.trimmingSuffix("/") + "/"
    var byMAC: [String: Sighting] = [:]
    var order: [String] = []  // MACs in the order they first asked to netboot
    // Which MAC had an address when: TFTP events name only the address. The hook's events carry
    // milliseconds and the log's whole seconds, so take the nearest in time, before or after.
    var holders: [String: [(time: Date, mac: String)]] = [:]
    for event in events {
      if let mac = event.mac, let ip = event.ip { holders[ip, default: []].append((event.time, mac)) }
    }
    func holder(of ip: String, at time: Date) -> String? {
      holders[ip]?.min { abs($0.time.timeIntervalSince(time)) < abs($1.time.timeIntervalSince(time)) }?.mac
    }
    for event in events.sorted(by: { $0.time < $1.time }) {
      guard let mac = event.mac ?? event.ip.flatMap({ holder(of: $0, at: event.time) }) else { continue }
      var sighting =
        byMAC[mac]
        ?? Sighting(
          mac: mac, ip: nil, vendorClass: nil, serial: nil, model: nil,
          isPi: MACAddress(mac)?.isRaspberryPi ?? false, firstSeen: event.time, lastSeen: event.time)
      var asked = event.asksToNetboot
      if let ip = event.ip { sighting.ip = ip }
      if let model = event.model {
        sighting.model = model
        sighting.isPi = true
      }
      if let vendor = event.vendorClass {
        sighting.vendorClass = vendor
        if vendor == BootEvent.piVendorClass { sighting.isPi = true }
      }
      if let path = event.path, path.hasPrefix(root), event.kind == .tftpSent || event.kind == .tftpMissing {
        asked = true
        let parts = path.dropFirst(root.count).split(separator: "/")
        // A Pi 4 checks SERIAL/start4.elf first, a Pi 5 reads SERIAL/config.txt first.
        if parts.count == 2, parts[1].hasPrefix("start4") || parts[1] == "config.txt", isSerial(parts[0]) {
          sighting.serial = String(parts[0]).lowercased()
          sighting.model = sighting.model ?? (parts[1] == "config.txt" ? "pi5" : "pi4")
          sighting.isPi = true
        }
      }
      sighting.lastSeen = event.time
      byMAC[mac] = sighting
      if asked && !order.contains(mac) { order.append(mac) }
    }
    return order.compactMap { byMAC[$0] }.filter { sighting in
      !knownMACs.contains(sighting.mac) && !(sighting.serial.map(knownSerials.contains) ?? false)
    }
  }

  static func isSerial(_ text: Substring) -> Bool { text.count == 8 && text.allSatisfy(\.isHexDigit) }

  /// What `discover --add` does with `sightings`: entries for the Raspberry Pi boards (all of
  /// them with `any`), and the machines it leaves out. A board is a Pi when its boot ROM said so
  /// (the Pi vendor class, option 97, a Pi 4/5 serial folder) or its MAC has a Raspberry Pi
  /// prefix; anything else on the LAN stays out unless asked for.
  public struct Plan: Sendable {
    public var adds: [(spec: ClusterFileEditor.NodeSpec, sighting: Sighting)]
    public var leftOut: [Sighting]
  }

  public static func plan(for sightings: [Sighting], in cluster: Cluster, any: Bool) throws(PiSwarmError) -> Plan {
    let chosen = sightings.filter { any || $0.isPi }
    let specs = try specs(for: chosen, in: cluster)
    return Plan(adds: Array(zip(specs, chosen)), leftOut: sightings.filter { !(any || $0.isPi) })
  }

  /// One line about a planned addition: `node05 (10.42.0.15) for b8:27:eb:…, serial …, pi4`.
  public static func describe(_ spec: ClusterFileEditor.NodeSpec, _ sighting: Sighting) -> String {
    var what = [sighting.mac]
    if let serial = spec.serial { what.append("serial \(serial)") }
    if let model = spec.model { what.append(model.rawValue) }
    if !sighting.isPi { what.append("not a Raspberry Pi") }
    return "\(spec.name) (\(spec.ip)) for \(what.joined(separator: ", "))"
  }

  /// Why a machine was left out, and how to add it anyway.
  public static func leftOutReason(_ sighting: Sighting) -> String {
    let vendor = sighting.vendorClass.map { " (vendor class \"\(TerminalText.escaped($0))\")" } ?? ""
    return "\(sighting.mac)\(vendor) is not a Raspberry Pi board: no Pi boot ROM request and no Raspberry Pi MAC prefix; "
      + "'piswarm discover --add --any' adds it anyway"
  }

  /// Throws when the cluster file after adding `added` makes one of them a swarm manager:
  /// nothing from the LAN manages the swarm unless the user says so.
  public static func checkNoNewManagers(_ added: [String], after cluster: Cluster) throws(PiSwarmError) {
    let managers = Set(cluster.managers.map(\.name))
    let promoted = added.filter(managers.contains)
    guard !promoted.isEmpty else { return }
    let why =
      switch cluster.swarm.managers {
      case nil: "swarm.managers is not set, so the first \(managers.count) node\(managers.count == 1 ? "" : "s") manage the swarm"
      case .count(let count): "swarm.managers is \(count): the first \(count) nodes manage the swarm"
      case .names: "swarm.managers names \(promoted.count == 1 ? "it" : "them")"
      }
    let names = promoted.joined(separator: ", ")
    throw PiSwarmError(
      .invalidInput,
      "adding \(names) would make \(promoted.count == 1 ? "it a swarm manager" : "them swarm managers"): \(why)",
      advice:
        "name the managers you want in the cluster file (swarm: managers: [node01]), or pass --allow-managers to let the new boards manage the swarm"
    )
  }

  /// New cluster-file entries for `sightings`: names `nodeNN` after the highest `nodeNN` in use,
  /// addresses after the highest node address (outside the head's address and the DHCP range).
  public static func specs(for sightings: [Sighting], in cluster: Cluster) throws(PiSwarmError) -> [ClusterFileEditor.NodeSpec] {
    var names = Set(cluster.nodes.map(\.name))
    var addresses = Set(cluster.nodes.map(\.ip))
    var specs: [ClusterFileEditor.NodeSpec] = []
    for sighting in sightings {
      let name = nextName(used: names)
      guard let ip = nextAddress(in: cluster, used: addresses) else {
        throw PiSwarmError(
          .invalidInput, "no free address left in \(cluster.head.address.networkDescription) for \(sighting.mac)",
          advice: "remove nodes or widen the head's subnet, then run discover --add again")
      }
      names.insert(name)
      addresses.insert(ip)
      let model = sighting.model.flatMap(BoardModel.init(rawValue:))
      specs.append(
        .init(name: name, ip: ip, mac: MACAddress(sighting.mac), serial: sighting.serial, model: model))
    }
    return specs
  }

  /// `nodeNN`, one past the highest number in use (at least two digits, as wide as the widest).
  public static func nextName(used: Set<String>) -> String {
    var highest = 0
    var width = 2
    for name in used where name.hasPrefix("node") {
      let digits = name.dropFirst(4)
      guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let number = Int(digits) else { continue }
      highest = max(highest, number)
      width = max(width, digits.count)
    }
    var number = highest + 1
    while true {
      let digits = String(number)
      let name = "node" + String(repeating: "0", count: max(0, width - digits.count)) + digits
      if !used.contains(name) { return name }
      number += 1
    }
  }

  /// The first free host address after the highest one in `used` (from the subnet's tenth address
  /// when none is), wrapping round; never the head's, nor one in the DHCP range.
  public static func nextAddress(in cluster: Cluster, used: Set<IPv4Address>) -> IPv4Address? {
    let subnet = cluster.head.address
    let size = Int(subnet.broadcast.value - subnet.network.value) + 1
    let start = used.max().map { Int($0.value - subnet.network.value) + 1 } ?? min(10, size - 2)
    for step in 0..<size {
      guard let candidate = subnet.network.advanced(by: (start + step) % size) else { continue }
      guard subnet.isHost(candidate), candidate != subnet.address, !used.contains(candidate) else { continue }
      if let range = cluster.head.dhcpRange, range.contains(candidate) { continue }
      return candidate
    }
    return nil
  }
}
