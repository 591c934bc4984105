import Yams

extension ClusterReader {
  /// One node with the YAML nodes its values came from, for located messages.
  struct Placed {
    var node: Node
    var item: Yams.Node
    var nameNode: Yams.Node
    var ipNode: Yams.Node?
    var macNode: Yams.Node?
    var serialNode: Yams.Node?
    var storageNode: Yams.Node?
    var powerNode: Yams.Node?
  }

  mutating func nodeEntries(_ entry: Entry?, head: Head, defaults: NodeDefaults) -> [Placed] {
    guard let entry, !isNull(entry.value) else { return [] }
    guard let items = entry.value.sequence else {
      error(entry.value, "nodes must be a list of nodes, each starting with \"- name:\"; found \(kind(of: entry.value))")
      return []
    }
    var placed: [Placed] = []
    var total = 0
    for item in items {
      guard let entries = nodeEntry(item, head: head, defaults: defaults, total: &total) else { break }
      placed += entries
    }
    return placed
  }

  /// The most nodes one cluster file may hold, ranges expanded. Far beyond any rack, and small
  /// enough that a file of ranges cannot make piswarm allocate gigabytes.
  static let maximumNodes = 10_000

  /// Counts `count` more nodes; false (after an error naming the cap) when that goes past it.
  mutating func reserve(_ count: Int, total: inout Int, at node: Yams.Node, _ what: String) -> Bool {
    total += count
    guard total > Self.maximumNodes else { return true }
    error(
      node,
      "\(what) brings the file to \(Self.grouped(total)) nodes; a cluster file holds at most \(Self.grouped(Self.maximumNodes)) nodes: shorten the ranges, or split the machines into several clusters"
    )
    return false
  }

  /// 10000 as "10,000".
  static func grouped(_ number: Int) -> String {
    var digits = String(number)
    var groups: [String] = []
    while digits.count > 3 {
      groups.insert(String(digits.suffix(3)), at: 0)
      digits.removeLast(3)
    }
    return ([digits] + groups).joined(separator: ",")
  }

  /// Reads one list item: one node, or many for a host range. Nil when the nodes so far pass
  /// the cap: reading stops there, before the range is expanded.
  mutating func nodeEntry(_ item: Yams.Node, head: Head, defaults: NodeDefaults, total: inout Int) -> [Placed]? {
    guard let fields = mapping(item, "a node", keys: Self.nodeKeys), !isNull(item) else {
      if isNull(item) { error(item, "an empty node entry; give at least name and ip, or remove the \"-\" line") }
      return []
    }
    guard let (pattern, nameNode) = required(fields, "name", in: "a node", at: item, example: "node01") else { return [] }

    // Names: one, or a range.
    var names = [pattern]
    var range: HostRange?
    switch HostRange.parse(pattern) {
    case .failure(let failure)?:
      error(nameNode, "node name \(failure.message)")
      return []
    case .success(let parsed)?:
      guard reserve(parsed.count, total: &total, at: nameNode, "range \"\(pattern)\" (\(parsed.count) nodes)") else { return nil }
      range = parsed
      names = parsed.names
      if let problem = parsed.nameProblem {
        error(nameNode, "range \"\(pattern)\" makes names like \"\(parsed.name(parsed.first))\": \(problem)")
        return []
      }
    case nil:
      if let problem = HostName.problem(with: pattern) {
        error(nameNode, "node name \"\(pattern)\" is not a valid host name: \(problem)")
        return []
      }
      guard reserve(1, total: &total, at: nameNode, "node \"\(pattern)\"") else { return nil }
    }
    let what = "node \(pattern)"
    let isRange = range != nil

    // Addresses: fixed, or FIRST+ for a range.
    let ips = addresses(fields["ip"], what: what, count: names.count, isRange: isRange, at: item, head: head)
    let macs = macAddresses(fields["mac"], what: what, count: names.count, isRange: isRange)
    var serial: String?
    if let entry = fields["serial"], let raw = text(entry.value, "\(what) serial") {
      if isRange {
        error(entry.key, "\(what) is a range; a serial belongs to one board: give the range's boards their own entries")
      } else if let normalized = Self.serial(raw) {
        serial = normalized
      } else {
        error(
          entry.value, "\(what) serial \"\(raw)\" is not a board serial (8 or 16 hex digits, as in /proc/cpuinfo), e.g. 1a2b3c4d")
      }
    }
    let model = fields["model"].flatMap { enumValue($0.value, "\(what) model", as: BoardModel.self) }
    let boot = fields["boot"].flatMap { enumValue($0.value, "\(what) boot", as: BootMode.self) } ?? defaults.boot
    let dockerStorage =
      fields["docker_storage"].flatMap { self.storage($0.value, "\(what) docker_storage") }
      ?? defaults.dockerStorage ?? (boot == .netboot ? NodeDefaults.netbootStorage : .root)
    var power = defaults.power
    if let entry = fields["power"], let (partial, keys) = self.power(entry.value, "\(what) power") {
      power = defaults.power.overlaid(with: partial)
      // Keys the node inherits are reported where the defaults set them.
      let inherited = partial.driver == nil || partial.driver == defaults.power.driver ? defaultPowerKeys : [:]
      checkPower(power, keys: inherited.merging(keys) { $1 }, at: entry.key, what: "\(what) power")
    } else if power.driver != PowerConfig.none.driver {
      // The defaults alone must be complete for a node that adds nothing.
      checkPower(power, keys: defaultPowerKeys, at: item, what: "\(what) power")
    }
    let labels = self.labels(fields["labels"]?.value, "\(what) labels")
    let extra = fields["cmdline_extra"].flatMap { cmdlineExtra($0.value, "\(what) cmdline_extra") } ?? defaults.cmdlineExtra
    let ownEEPROM = fields["eeprom"].flatMap { self.eeprom($0.value, "\(what) eeprom") }
    let bootloader = (ownEEPROM ?? EEPROMConfig()).merged(over: defaults.eeprom)
    if let first = names.first {
      checkEEPROM(bootloader, node: first, model: model, at: fields["eeprom"]?.key ?? item, own: ownEEPROM != nil)
    }
    guard let ips else { return [] }

    return names.indices.map { index in
      var node = Node(
        name: names[index], mac: macs?[index], ip: ips[index], serial: serial, model: model, boot: boot,
        dockerStorage: dockerStorage, power: power, labels: labels, role: .worker, location: location(item),
        range: isRange ? pattern : nil, cmdlineExtra: extra)
      node.eeprom = bootloader
      return Placed(
        node: node, item: item, nameNode: nameNode, ipNode: fields["ip"]?.value, macNode: fields["mac"]?.value,
        serialNode: fields["serial"]?.value, storageNode: fields["docker_storage"]?.value, powerNode: fields["power"]?.key)
    }
  }

  /// Kernel command line words: one line of printable text, without the words piswarm writes
  /// itself (`root=`, `nfsroot=`, `ip=`) or words for an SD card (`NetbootOS.isSDOnly`).
  mutating func cmdlineExtra(_ node: Yams.Node, _ what: String) -> String? {
    guard let raw = text(node, what) else { return nil }
    let trimmed = Substring(raw).trimmingSpaces
    if trimmed.isEmpty { return nil }
    if raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      error(node, "\(what) must be one line of text, without line breaks or tabs, e.g. cmdline_extra: \"quiet loglevel=3\"")
      return nil
    }
    if trimmed.utf8.count > 512 {
      error(node, "\(what) is \(trimmed.utf8.count) bytes long; keep it under 512 (the whole command line is limited)")
      return nil
    }
    for word in trimmed.split(separator: " ") {
      for owned in ["root=", "nfsroot=", "ip="] where word.hasPrefix(owned) {
        error(node, "\(what) sets \"\(word)\", which piswarm writes itself for a netboot node; remove it")
        return nil
      }
      if NetbootOS.isSDOnly(String(word)) {
        error(
          node,
          "\(what) has \"\(word)\", a word for booting from an SD card: a netbooted node has no such partition, or would run Raspberry Pi OS's first boot and lose the identity piswarm gave it; remove it"
        )
        return nil
      }
    }
    return String(trimmed)
  }

  mutating func addresses(
    _ entry: Entry?, what: String, count: Int, isRange: Bool, at item: Yams.Node, head: Head
  )
    -> [IPv4Address]?
  {
    let example = Self.exampleAddress(head).description
    guard let entry else {
      error(item, "\(what) needs \"ip\", its address on the cluster network, e.g. ip: \(example)\(isRange ? "+" : "")")
      return nil
    }
    guard let raw = text(entry.value, "\(what) ip") else {
      if isNull(entry.value) { error(entry.value, "\(what) ip is empty; give an address, e.g. ip: \(example)") }
      return nil
    }
    switch IPv4Address.consecutive(raw, count: count, isRange: isRange) {
    case .success(let addresses):
      return addresses
    case .failure(.rangeNeedsPlus):
      error(
        entry.value,
        "\(what) is a range: its ip must be the first address followed by \"+\", e.g. ip: \(raw)+, so each node gets its own")
    case .failure(.plusNeedsRange):
      error(entry.value, "\(what) ip \"\(raw)\": FIRST+ is only for ranges (name: node[02-10]); write one address")
    case .failure(.malformed):
      error(entry.value, "\(what) ip \"\(raw)\" is not an IPv4 address, e.g. \(example)")
    case .failure(.runsOut(let first)):
      error(entry.value, "\(what): addresses from \(first) run past 255.255.255.255")
    }
    return nil
  }

  mutating func macAddresses(_ entry: Entry?, what: String, count: Int, isRange: Bool) -> [MACAddress]? {
    guard let entry, let raw = text(entry.value, "\(what) mac") else { return nil }
    switch MACAddress.consecutive(raw, count: count, isRange: isRange) {
    case .success(let macs):
      guard let first = macs.first, first.isMulticast else { return macs }
      error(entry.value, "\(what) mac \"\(raw)\" is a multicast address, which no network card has; check for a typo")
    case .failure(.plusNeedsRange):
      error(entry.value, "\(what) mac \"\(raw)\": FIRST+ is only for ranges; write one address")
    case .failure(.rangeNeedsPlus):
      error(entry.value, "\(what) is a range: its mac must be the first address followed by \"+\", or left out")
    case .failure(.malformed):
      error(entry.value, "\(what) mac \"\(raw)\" is not a MAC address; write six hex pairs, e.g. b8:27:eb:12:34:56")
    case .failure(.runsOut(let first)):
      error(entry.value, "\(what): MAC addresses from \(first) run past the vendor block")
    }
    return nil
  }

  /// A host address of the head's subnet for examples in messages: the tenth, or the first.
  static func exampleAddress(_ head: Head) -> IPv4Address {
    let subnet = head.address
    for offset in [10, 1, 2] {
      if let candidate = subnet.network.advanced(by: offset), subnet.isHost(candidate), candidate != subnet.address {
        return candidate
      }
    }
    return subnet.address
  }

  /// The last eight hex digits, lowercase, of an 8- or 16-digit serial.
  static func serial(_ raw: String) -> String? {
    let text = raw.lowercased()
    guard text.count == 8 || text.count == 16, text.allSatisfy(\.isHexDigit) else { return nil }
    return String(text.suffix(8))
  }
}
