import Yams

/// Walks the YAML tree of a cluster file, collecting every problem instead of stopping at the first.
struct ClusterReader {
  var diagnostics: [Diagnostic] = []
  /// Where defaults.docker_storage is written, for messages about nodes that inherit it.
  var defaultStorageNode: Yams.Node?
  /// (place, kind) pairs already reported, so that a range or an inherited default that is wrong
  /// for many nodes is reported once.
  var reported = Set<String>()

  static let topKeys = ["version", "name", "head", "ssh", "defaults", "swarm", "docker", "nodes"]
  static let headKeys = ["interface", "address", "lan", "dhcp_range", "tftp_root", "nfs_root", "dnsmasq_conf"]
  static let sshKeys = ["user", "key"]
  static let defaultsKeys = ["boot", "image", "docker_storage", "power", "cmdline_extra"]
  static let swarmKeys = ["managers", "labels", "advertise", "autolock"]
  static let dockerKeys = ["registry_mirrors", "log_max_size", "log_max_files"]
  static let nodeKeys = ["name", "mac", "ip", "serial", "model", "boot", "docker_storage", "power", "labels", "cmdline_extra"]

  mutating func error(_ node: Yams.Node?, _ message: String) {
    diagnostics.append(Diagnostic(.error, at: location(node), message))
  }

  mutating func warning(_ node: Yams.Node?, _ message: String) {
    diagnostics.append(Diagnostic(.warning, at: location(node), message))
  }

  func location(_ node: Yams.Node?) -> SourceLocation {
    guard let mark = node?.mark else { return .start }
    return SourceLocation(line: mark.line, column: mark.column)
  }

  // MARK: - Shapes

  /// A mapping's entries by key, reporting unknown and non-text keys. Nil (after an error) when
  /// the node is not a mapping; an empty mapping for a null value.
  mutating func mapping(_ node: Yams.Node, _ what: String, keys: [String]) -> [String: Entry]? {
    if isNull(node) { return [:] }
    if case .alias = node {
      error(node, "\(what): YAML aliases (*name) are not supported in a cluster file; write the value out")
      return nil
    }
    guard let mapping = node.mapping else {
      error(node, "\(what) must be a mapping of keys to values, found \(kind(of: node))")
      return nil
    }
    var entries: [String: Entry] = [:]
    for (key, value) in mapping {
      guard let name = key.scalar?.string else {
        error(key, "a key in \(what) must be plain text, found \(kind(of: key))")
        continue
      }
      guard keys.contains(name) else {
        error(
          key,
          "unknown key \"\(name)\" in \(what)\(Suggestion.hint(for: name, in: keys)); known keys: \(keys.joined(separator: ", "))"
        )
        continue
      }
      entries[name] = Entry(key: key, value: value)
    }
    return entries
  }

  struct Entry {
    var key: Yams.Node
    var value: Yams.Node
  }

  /// The text of a scalar; nil (with an error) for a mapping or list, nil (silently) for null.
  mutating func text(_ node: Yams.Node?, _ what: String) -> String? {
    guard let node, !isNull(node) else { return nil }
    guard let scalar = node.scalar else {
      error(node, "\(what) must be a single value, found \(kind(of: node))")
      return nil
    }
    return scalar.string
  }

  /// A required scalar: reports a missing or empty one at `parent`.
  mutating func required(
    _ entries: [String: Entry], _ key: String, in what: String, at parent: Yams.Node, example: String
  )
    -> (String, Yams.Node)?
  {
    guard let entry = entries[key] else {
      error(parent, "\(what) needs \"\(key)\", e.g. \(key): \(example)")
      return nil
    }
    guard let value = text(entry.value, "\(what).\(key)") else {
      if isNull(entry.value) { error(entry.value, "\(what).\(key) is empty; give a value, e.g. \(key): \(example)") }
      return nil
    }
    return (value, entry.value)
  }

  mutating func enumValue<E: RawRepresentable & CaseIterable>(_ node: Yams.Node?, _ what: String, as type: E.Type) -> E?
  where E.RawValue == String {
    guard let node, let raw = text(node, what) else { return nil }
    if let value = E(rawValue: raw) { return value }
    let names = E.allCases.map(\.rawValue)
    error(node, "\(what) \"\(raw)\" is not one of \(names.joined(separator: ", "))\(Suggestion.hint(for: raw, in: names))")
    return nil
  }

  mutating func labels(_ node: Yams.Node?, _ what: String) -> [String: String] {
    guard let node, !isNull(node) else { return [:] }
    guard let mapping = node.mapping else {
      error(node, "\(what) must be a mapping of label names to values, e.g. { rack: a, zone: \"1\" }; found \(kind(of: node))")
      return [:]
    }
    var labels: [String: String] = [:]
    for (key, value) in mapping {
      guard let name = key.scalar?.string else {
        error(key, "a label name in \(what) must be plain text, found \(kind(of: key))")
        continue
      }
      if !Self.isLabelKey(name) {
        error(
          key,
          "label \"\(name)\" in \(what) is not a valid Docker label key; use letters, digits, '.', '-', '_' and '/', e.g. \"rack\" or \"com.example.zone\""
        )
      }
      if let text = text(value, "label \"\(name)\"") { labels[name] = text } else if isNull(value) { labels[name] = "" }
    }
    return labels
  }

  static func isLabelKey(_ key: String) -> Bool {
    guard let first = key.unicodeScalars.first, let last = key.unicodeScalars.last, key.count <= 255 else { return false }
    let inner = key.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "._-/".unicodeScalars.contains($0) }
    return inner && first.isASCIIAlphanumeric && last.isASCIIAlphanumeric
  }

  func isNull(_ node: Yams.Node) -> Bool {
    guard let scalar = node.scalar, scalar.style == .plain else { return false }
    return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  func kind(of node: Yams.Node) -> String {
    switch node {
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .scalar(let scalar): "\"\(scalar.string)\""
    case .alias: "an alias"
    }
  }

  // MARK: - The file

  mutating func read(_ root: Yams.Node) -> Cluster? {
    guard root.mapping != nil else {
      error(
        root,
        "a cluster file is a mapping with keys name, head, ssh, defaults, swarm and nodes; found \(kind(of: root)). Run 'piswarm init' for a starter file"
      )
      return nil
    }
    guard let top = mapping(root, "the cluster file", keys: Self.topKeys) else { return nil }

    if let entry = top["version"], let raw = text(entry.value, "version"), raw != String(Cluster.schemaVersion) {
      error(
        entry.value, "version \"\(raw)\" is not supported: this piswarm reads cluster files of version \(Cluster.schemaVersion)")
    }
    let name = clusterName(top, root)
    let head = self.head(top, root)
    let ssh = self.ssh(top["ssh"])
    let defaults = self.defaults(top["defaults"])
    let swarm = self.swarm(top["swarm"])
    let docker = self.docker(top["docker"])
    guard let head, let defaults else { return nil }
    let clusterName = name ?? "invalid"
    let entries = nodeEntries(top["nodes"], head: head, defaults: defaults)
    var nodes = entries.map(\.node)
    let managers = assignRoles(&nodes, swarm: swarm, entry: top["swarm"])
    check(entries: entries, nodes: nodes, head: head)
    _ = managers
    return Cluster(
      name: clusterName, head: head, ssh: ssh, defaults: defaults, swarm: swarm.settings, docker: docker, nodes: nodes)
  }

  mutating func clusterName(_ top: [String: Entry], _ root: Yams.Node) -> String? {
    guard let (name, node) = required(top, "name", in: "the cluster file", at: root, example: "pi-cluster") else { return nil }
    guard Self.isClusterName(name) else {
      error(
        node,
        "cluster name \"\(name)\" may hold only lowercase letters, digits and '-' (at most 63, not starting or ending with '-'), e.g. \"\(Self.suggestedName(name))\""
      )
      return nil
    }
    return name
  }

  static func isClusterName(_ name: String) -> Bool { HostName.isValid(name) }

  static func suggestedName(_ name: String) -> String {
    let mapped = name.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }
    let trimmed = String(mapped).split(separator: "-").joined(separator: "-")
    return trimmed.isEmpty ? "pi-cluster" : String(trimmed.prefix(63))
  }

  // MARK: - head

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
    // Carry on with placeholders after an error, so that the nodes are checked too.
    guard let address else { return nil }
    return Head(
      interface: interface ?? "invalid", address: address, lan: lan ?? .proxy, dhcpRange: range,
      tftpRoot: tftp ?? Head.defaultTFTPRoot, nfsRoot: nfs ?? Head.defaultNFSRoot, dnsmasqConf: conf ?? Head.defaultDnsmasqConf)
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

  // MARK: - ssh, defaults, swarm

  mutating func ssh(_ entry: Entry?) -> SSHSettings {
    var settings = SSHSettings(user: SSHSettings.defaultUser, key: nil)
    guard let entry, let fields = mapping(entry.value, "ssh", keys: Self.sshKeys) else { return settings }
    if let user = fields["user"], let name = text(user.value, "ssh.user") {
      if HostName.isUserName(name) {
        settings.user = name
      } else {
        error(user.value, "ssh.user \"\(name)\" is not a user name (lowercase letters, digits, '_' and '-'), e.g. root or pi")
      }
    }
    if let key = fields["key"], let path = text(key.value, "ssh.key") {
      if path.isEmpty {
        error(key.value, "ssh.key is empty; give the private key's path, e.g. ~/.ssh/id_ed25519")
      } else if let bad = path.unicodeScalars.first(where: { TerminalText.needsEscape($0) || $0 == "\"" || $0 == "\\" }) {
        // It goes on one line of an SSH configuration: IdentityFile "PATH".
        error(
          key.value,
          "ssh.key \"\(path.terminalSafe)\" holds \(HeadPath.name(of: bad)): the key's path goes on one line of an SSH configuration; give a plain path, e.g. ~/.ssh/id_ed25519"
        )
      } else {
        settings.key = path
      }
    }
    return settings
  }

  mutating func defaults(_ entry: Entry?) -> NodeDefaults? {
    var defaults = NodeDefaults(boot: .netboot, image: nil, dockerStorage: nil, power: .none)
    guard let entry else { return defaults }
    guard let fields = mapping(entry.value, "defaults", keys: Self.defaultsKeys) else { return nil }
    if let boot = fields["boot"], let mode = enumValue(boot.value, "defaults.boot", as: BootMode.self) {
      defaults.boot = mode
    }
    if let image = fields["image"], let name = text(image.value, "defaults.image") {
      if let problem = ImageName.problem(with: name) {
        error(image.value, "defaults.image \"\(name)\": \(problem); use the name 'piswarm image ls' shows")
      } else {
        defaults.image = name
      }
    }
    if let extra = fields["cmdline_extra"] { defaults.cmdlineExtra = cmdlineExtra(extra.value, "defaults.cmdline_extra") }
    if let storage = fields["docker_storage"] {
      defaultStorageNode = storage.value
      defaults.dockerStorage = self.storage(storage.value, "defaults.docker_storage")
    }
    if let power = fields["power"], let partial = self.power(power.value, "defaults.power") {
      defaults.power = PowerConfig(driver: partial.driver ?? "none", settings: partial.settings)
      checkPower(defaults.power, at: power.key, what: "defaults.power")
    }
    return defaults
  }

  mutating func storage(_ node: Yams.Node, _ what: String) -> DockerStorage? {
    guard let raw = text(node, what) else { return nil }
    switch DockerStorage.parse(raw) {
    case .success(let storage): return storage
    case .failure(let failure):
      error(node, "\(what): \(failure.message)")
      return nil
    }
  }

  mutating func power(_ node: Yams.Node, _ what: String) -> PartialPower? {
    if let driver = node.scalar.flatMap({ isNull(node) ? nil : $0.string }) {
      // `power: none` is shorthand for a driver with no settings.
      return checkDriver(driver, node, what) ? PartialPower(driver: driver, settings: [:]) : nil
    }
    guard !isNull(node), node.mapping != nil else {
      if !isNull(node) { error(node, "\(what) must be a mapping with a driver, e.g. { driver: command, on: \"…\", off: \"…\" }") }
      return nil
    }
    var driver: String?
    var settings: [String: String] = [:]
    for (key, value) in node.mapping ?? [:] {
      guard let name = key.scalar?.string else {
        error(key, "a key in \(what) must be plain text, found \(kind(of: key))")
        continue
      }
      guard let text = text(value, "\(what).\(name)") else { continue }
      if name == "driver" {
        if checkDriver(text, value, what) { driver = text } else { return nil }
      } else {
        settings[name] = text
      }
    }
    return PartialPower(driver: driver, settings: settings)
  }

  mutating func checkDriver(_ driver: String, _ node: Yams.Node, _ what: String) -> Bool {
    if PowerConfig.drivers.contains(driver) { return true }
    error(
      node,
      "\(what): unknown power driver \"\(driver)\"\(Suggestion.hint(for: driver, in: PowerConfig.drivers)); drivers: \(PowerConfig.drivers.joined(separator: ", "))"
    )
    return false
  }

  mutating func checkPower(_ power: PowerConfig, at node: Yams.Node, what: String) {
    let needed: [String] =
      switch power.driver {
      case "command": ["on", "off"]
      default: []
      }
    for key in needed where power.settings[key]?.isEmpty ?? true {
      error(
        node,
        "\(what): the \(power.driver) driver needs \"\(key)\", a command with {node}, {ip} or {port} in it, e.g. \(key): \"uhubctl -l 1-1 -p {port} -a \(key)\""
      )
    }
  }

  struct SwarmRead {
    var settings: SwarmSettings
    var managerNodes: [(String, Yams.Node)] = []
    var managersNode: Yams.Node?
    var listLength = 0
  }

  mutating func swarm(_ entry: Entry?) -> SwarmRead {
    var read = SwarmRead(settings: SwarmSettings(managers: nil, labels: [:], advertise: SwarmSettings.defaultAdvertise))
    guard let entry, let fields = mapping(entry.value, "swarm", keys: Self.swarmKeys) else { return read }
    if let managers = fields["managers"] {
      read.managersNode = managers.value
      if let list = managers.value.sequence {
        read.listLength = list.count
        var names: [String] = []
        for item in list {
          guard let name = text(item, "a manager") else { continue }
          read.managerNodes.append((name, item))
          names.append(name)
        }
        read.settings.managers = .names(names)
      } else if let raw = text(managers.value, "swarm.managers") {
        if let count = Int(raw), count >= 0 {
          read.settings.managers = .count(count)
        } else {
          error(
            managers.value,
            "swarm.managers \"\(raw)\" must be a count (e.g. 3) or a list of node names (e.g. [node01, node02, node03])")
        }
      }
    }
    if let labels = fields["labels"] { read.settings.labels = self.labels(labels.value, "swarm.labels") }
    if let advertise = fields["advertise"], let name = text(advertise.value, "swarm.advertise") {
      if HostName.isInterfaceName(name) {
        read.settings.advertise = name
      } else {
        error(advertise.value, "swarm.advertise \"\(name)\" is not a network interface name, e.g. eth0")
      }
    }
    if let autolock = fields["autolock"], let raw = text(autolock.value, "swarm.autolock") {
      switch raw {
      case "true": read.settings.autolock = true
      case "false": read.settings.autolock = false
      default: error(autolock.value, "swarm.autolock \"\(raw)\" must be true or false")
      }
    }
    return read
  }
}

extension ClusterReader {
  mutating func docker(_ entry: Entry?) -> DockerSettings {
    var settings = DockerSettings()
    guard let entry, let fields = mapping(entry.value, "docker", keys: Self.dockerKeys) else { return settings }
    if let mirrors = fields["registry_mirrors"] {
      if let list = mirrors.value.sequence {
        for item in list {
          guard let url = text(item, "a registry mirror") else { continue }
          if Self.isMirrorURL(url) {
            settings.registryMirrors.append(url)
          } else {
            error(
              item,
              "registry mirror \"\(url)\" must be an http:// or https:// URL without spaces, e.g. https://mirror.example:5000")
          }
        }
      } else if !isNull(mirrors.value) {
        error(mirrors.value, "docker.registry_mirrors must be a list of URLs, e.g. [https://mirror.example:5000]")
      }
    }
    if let size = fields["log_max_size"], let raw = text(size.value, "docker.log_max_size") {
      if Self.isLogSize(raw) {
        settings.logMaxSize = raw
      } else {
        error(size.value, "docker.log_max_size \"\(raw)\" must be a whole number with k, m or g, e.g. 10m")
      }
    }
    if let files = fields["log_max_files"], let raw = text(files.value, "docker.log_max_files") {
      if let count = Int(raw), (1...100).contains(count) {
        settings.logMaxFiles = count
      } else {
        error(files.value, "docker.log_max_files \"\(raw)\" must be a whole number from 1 to 100, e.g. 3")
      }
    }
    return settings
  }

  static func isMirrorURL(_ url: String) -> Bool {
    (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.count > 8 && url.count < 512
      && !url.unicodeScalars.contains { $0.value <= 0x20 || $0 == "\"" || $0 == "\\" || $0.value == 0x7f }
  }

  static func isLogSize(_ text: String) -> Bool {
    guard let unit = text.last, "kmg".contains(unit) else { return false }
    let digits = text.dropLast()
    return !digits.isEmpty && digits.count < 10 && digits.allSatisfy(\.isASCIIDigitCharacter) && Int(digits) != 0
  }
}

extension Character {
  var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

extension Substring {
  var trimmingSpaces: Substring {
    let start = firstIndex { $0 != " " } ?? endIndex
    let end = lastIndex { $0 != " " }.map { index(after: $0) } ?? start
    return start < end ? self[start..<end] : self[start..<start]
  }
}

extension Unicode.Scalar {
  var isASCIIAlphanumeric: Bool {
    ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
  }
}
