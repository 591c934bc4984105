import Yams

/// Walks the YAML tree of a cluster file, collecting every problem instead of stopping at the first.
struct ClusterReader {
  var diagnostics: [Diagnostic] = []
  /// Where defaults.docker_storage is written, for messages about nodes that inherit it.
  var defaultStorageNode: Yams.Node?
  /// Where defaults.power's keys are written, for messages about nodes that inherit them.
  var defaultPowerKeys: [String: Yams.Node] = [:]
  /// (place, kind) pairs already reported, so that a range or an inherited default that is wrong
  /// for many nodes is reported once.
  var reported = Set<String>()
  /// Where docker.registry_mirrors names `head` (the head's cache), if it does.
  var headMirror: Yams.Node?

  static let topKeys = [
    "version", "name", "head", "ssh", "defaults", "swarm", "docker", "power", "registry", "stacks", "nodes",
  ]
  static let headKeys = [
    "interface", "address", "lan", "dhcp_range", "tftp_root", "nfs_root", "dnsmasq_conf", "nat", "nfs_reload", "dnsmasq_restart",
  ]
  static let sshKeys = ["user", "key"]
  static let defaultsKeys = ["boot", "image", "docker_storage", "power", "cmdline_extra", "eeprom"]
  static let swarmKeys = ["managers", "labels", "advertise", "autolock"]
  static let dockerKeys = ["registry_mirrors", "log_max_size", "log_max_files"]
  static let registryKeys = ["enabled", "data", "port", "cache", "cache_port", "upstream"]
  static let nodeKeys = [
    "name", "mac", "ip", "serial", "model", "boot", "docker_storage", "power", "labels", "cmdline_extra", "eeprom",
  ]

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
    let power = self.powerSettings(top["power"])
    let registry = self.registry(top)
    let stacks = self.stacks(top["stacks"])
    guard let head, let defaults else { return nil }
    let clusterName = name ?? "invalid"
    let entries = nodeEntries(top["nodes"], head: head, defaults: defaults)
    var nodes = entries.map(\.node)
    let managers = assignRoles(&nodes, swarm: swarm, entry: top["swarm"])
    check(entries: entries, nodes: nodes, head: head)
    checkPowerAcrossNodes(entries)
    _ = managers
    return Cluster(
      name: clusterName, head: head, ssh: ssh, defaults: defaults, swarm: swarm.settings, docker: docker, power: power,
      registry: registry, nodes: nodes, stacks: stacks)
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
}
