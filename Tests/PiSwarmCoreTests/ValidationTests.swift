import Testing

@testable import PiSwarmCore

/// A valid base file; each case below changes one thing and expects one located message. (Over
/// 300 lines: one table of cases per section of the file, read best as one list.)
let baseFile = """
  version: 1
  name: rack1
  head:
    interface: eth1
    address: 10.42.0.250/24
    lan: dhcp
    dhcp_range: 10.42.0.100-10.42.0.199
  ssh:
    user: pi
    key: ~/.ssh/id_ed25519
  defaults:
    boot: netboot
    docker_storage: loopfile:8G
  swarm:
    managers: [node01, node02, node03]
    labels: { site: lab }
  nodes:
    - name: node01
      mac: b8:27:eb:00:00:01
      ip: 10.42.0.1
      serial: 1a2b3c4d
      model: pi4
    - name: node02
      mac: b8:27:eb:00:00:02
      ip: 10.42.0.2
    - name: node03
      mac: b8:27:eb:00:00:03
      ip: 10.42.0.3
    - name: node[04-06]
      mac: b8:27:eb:00:00:04+
      ip: 10.42.0.4+
      labels: { rack: b }

  """

func decode(_ text: String) -> ClusterFile.Decoded { ClusterFile.decode(text: text) }

func replacing(_ old: String, with new: String) -> String {
  precondition(baseFile.contains(old), "test base file lacks \(old)")
  return baseFile.replacingOccurrences(of: old, with: new)
}

extension String {
  func replacingOccurrences(of old: String, with new: String) -> String {
    var result = ""
    var rest = self[...]
    while let range = rest.range(of: old) {
      result += rest[..<range.lowerBound] + new
      rest = rest[range.upperBound...]
    }
    return result + rest
  }
}

@Suite struct ValidationTests {
  @Test func baseFileIsValid() throws {
    let decoded = decode(baseFile)
    #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
    let cluster = try #require(decoded.cluster)
    #expect(cluster.nodes.map(\.name) == ["node01", "node02", "node03", "node04", "node05", "node06"])
    #expect(cluster.managers.map(\.name) == ["node01", "node02", "node03"])
    #expect(cluster.node(named: "node06")?.ip.description == "10.42.0.6")
    #expect(cluster.node(named: "node06")?.mac?.description == "b8:27:eb:00:00:06")
    #expect(cluster.node(named: "node05")?.labels == ["rack": "b"])
    #expect(cluster.node(named: "node05")?.range == "node[04-06]")
    #expect(cluster.node(named: "node01")?.serial == "1a2b3c4d")
    #expect(cluster.node(named: "node01")?.dockerStorage == .loopfile(.gibibytes(8)))
    #expect(cluster.head.dhcpRange?.lowerBound.description == "10.42.0.100")
    #expect(cluster.head.tftpRoot == Head.defaultTFTPRoot)
  }

  struct Case: CustomStringConvertible, Sendable {
    var text: String
    var location: String
    var message: String
    var severity: Diagnostic.Severity = .error
    var description: String { message }
  }

  static let cases: [Case] = [
    // Unknown keys, with suggestions.
    Case(
      text: replacing("ssh:", with: "shh:"), location: "8:1",
      message: "unknown key \"shh\" in the cluster file (did you mean \"ssh\"?)"),
    Case(
      text: replacing("  lan: dhcp", with: "  lan: dhcp\n  interfaec: eth0"), location: "7:3",
      message: "did you mean \"interface\""),
    Case(
      text: replacing("    serial: 1a2b3c4d", with: "    serail: 1a2b3c4d"), location: "21:5",
      message: "unknown key \"serail\" in a node (did you mean \"serial\"?)"),
    // Wrong types.
    Case(text: replacing("head:\n", with: "head: eth1\nold_head:\n"), location: "3:7", message: "head must be a mapping"),
    Case(
      text: replacing("  user: pi", with: "  user: [pi]"), location: "9:9",
      message: "ssh.user must be a single value, found a list"),
    Case(
      text: replacing("  managers: [node01, node02, node03]", with: "  managers: three"), location: "15:13",
      message: "must be a count (e.g. 3) or a list"),
    Case(text: replacing("nodes:\n", with: "nodes: node01\nx:\n"), location: "17:8", message: "nodes must be a list"),
    // Addresses.
    Case(
      text: replacing("ip: 10.42.0.2\n", with: "ip: 10.42.0.256\n"), location: "25:9",
      message: "node node02 ip \"10.42.0.256\" is not an IPv4 address"),
    Case(
      text: replacing("mac: b8:27:eb:00:00:02", with: "mac: b8:27:eb:00:02"), location: "24:10", message: "is not a MAC address"),
    Case(text: replacing("mac: b8:27:eb:00:00:02", with: "mac: b9:27:eb:00:00:02"), location: "24:10", message: "multicast"),
    Case(
      text: replacing("address: 10.42.0.250/24", with: "address: 10.42.0.250"), location: "5:12",
      message: "has no prefix length; write it with one, e.g. 10.42.0.250/24"),
    Case(
      text: replacing("address: 10.42.0.250/24", with: "address: 10.42.0.250/33"), location: "5:12",
      message: "is not an IPv4 address with a prefix length"),
    Case(text: replacing("address: 10.42.0.250/24", with: "address: 10.42.0.0/24"), location: "5:12", message: "network address"),
    Case(
      text: replacing("ip: 10.42.0.2\n", with: "ip: 10.43.0.2\n"), location: "25:9",
      message: "node02's address 10.43.0.2 is outside the head's subnet 10.42.0.0/24"),
    Case(
      text: replacing("ip: 10.42.0.2\n", with: "ip: 10.42.0.250\n"), location: "25:9",
      message: "node02's address 10.42.0.250 is the head's own address"),
    Case(text: replacing("ip: 10.42.0.2\n", with: "ip: 10.42.0.255\n"), location: "25:9", message: "broadcast address"),
    Case(
      text: replacing("dhcp_range: 10.42.0.100-10.42.0.199", with: "dhcp_range: 10.42.0.199-10.42.0.100"), location: "7:15",
      message: "is empty"),
    Case(
      text: replacing("dhcp_range: 10.42.0.100-10.42.0.199", with: "dhcp_range: 10.42.0.200-10.42.0.254"), location: "7:15",
      message: "contains the head's own address"),
    Case(
      text: replacing("lan: dhcp", with: "lan: proxy"), location: "7:3", message: "head.dhcp_range is only used with lan: dhcp"),
    // Enumerations.
    Case(
      text: replacing("lan: dhcp", with: "lan: dchp"), location: "6:8",
      message: "head.lan \"dchp\" is not one of proxy, dhcp, none (did you mean \"dhcp\"?)"),
    Case(
      text: replacing("docker_storage: loopfile:8G", with: "docker_storage: loopfil:8G"), location: "13:19",
      message: "is not a storage mode; use root, loopfile:SIZE, device:/dev/… or tmpfs:SIZE (did you mean \"loopfile\"?)"),
    Case(
      text: replacing("docker_storage: loopfile:8G", with: "docker_storage: loopfile:lots"), location: "13:19",
      message: "\"lots\" is not a size"),
    Case(
      text: replacing("docker_storage: loopfile:8G", with: "docker_storage: device:sda1"), location: "13:19",
      message: "needs a block device path"),
    Case(
      text: replacing("docker_storage: loopfile:8G", with: "docker_storage: root"), location: "13:19",
      message: "its root is NFS, where Docker's overlay2 cannot run"),
    Case(text: replacing("    model: pi4", with: "    model: pi6"), location: "22:12", message: "model \"pi6\" is not one of"),
    Case(
      text: replacing("  boot: netboot", with: "  boot: pxe"), location: "12:9",
      message: "defaults.boot \"pxe\" is not one of netboot, sd, preinstalled"),
    // Duplicates, naming both nodes.
    Case(
      text: replacing("ip: 10.42.0.3\n", with: "ip: 10.42.0.2\n"), location: "28:9",
      message: "duplicate ip 10.42.0.2: node03 and node02 (line 23) both have it"),
    Case(
      text: replacing("mac: b8:27:eb:00:00:03", with: "mac: b8:27:eb:00:00:01"), location: "27:10",
      message: "duplicate mac b8:27:eb:00:00:01: node03 and node01 (line 18) both have it"),
    Case(
      text: replacing("  - name: node03\n", with: "  - name: node02\n").replacingOccurrences(
        of: "managers: [node01, node02, node03]", with: "managers: 1"), location: "26:11",
      message: "duplicate node name \"node02\": also node02 (line 23)"),
    Case(
      text: replacing("    ip: 10.42.0.3\n", with: "    ip: 10.42.0.3\n    serial: 1A2B3C4D\n"), location: "29:13",
      message: "duplicate serial 1a2b3c4d: node03 and node01 (line 18) both have it"),
    Case(
      text: replacing("ip: 10.42.0.4+", with: "ip: 10.42.0.2+"), location: "31:9",
      message: "duplicate ip 10.42.0.2: node04 and node02 (line 23)"),
    Case(text: replacing("serial: 1a2b3c4d", with: "serial: xyz"), location: "21:13", message: "is not a board serial"),
    // Names.
    Case(
      text: replacing("- name: node02", with: "- name: Node02").replacingOccurrences(of: "node02, ", with: "Node02, "),
      location: "23:11", message: "host names are lowercase here; write \"node02\""),
    Case(
      text: replacing("- name: node02", with: "- name: node_02").replacingOccurrences(of: "node02, ", with: ""),
      location: "23:11", message: "no '_' or '.'"),
    Case(
      text: replacing("name: rack1", with: "name: Rack One"), location: "2:7",
      message: "cluster name \"Rack One\" may hold only lowercase letters, digits and '-'"),
    // Ranges.
    Case(
      text: replacing("node[04-06]", with: "node[06-04]"), location: "29:11",
      message: "range \"node[06-04]\" is empty: 06 is above 04"),
    Case(text: replacing("node[04-06]", with: "node[04-]"), location: "29:11", message: "must be FIRST-LAST with digits only"),
    Case(text: replacing("node[04-06]", with: "node[04-06"), location: "29:11", message: "unmatched bracket"),
    Case(
      text: replacing("ip: 10.42.0.4+", with: "ip: 10.42.0.4"), location: "31:9",
      message: "its ip must be the first address followed by \"+\""),
    Case(text: replacing("ip: 10.42.0.3\n", with: "ip: 10.42.0.3+\n"), location: "28:9", message: "FIRST+ is only for ranges"),
    Case(
      text: replacing("ip: 10.42.0.4+", with: "ip: 10.42.0.254+"), location: "31:9",
      message: "node05's address 10.42.0.255 is the subnet's broadcast address"),
    // Managers.
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: [node01, node02, node07]"), location: "15:30",
      message: "manager \"node07\" is not a node in this file"),
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: 0"), location: "15:13",
      message: "swarm.managers is 0; a swarm needs at least one manager"),
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: []"), location: "15:13",
      message: "swarm.managers is an empty list"),
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: 9"), location: "15:13",
      message: "swarm.managers is 9, but the file has only 6 nodes"),
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: [node01, node02]"), location: "15:13",
      message: "2 managers: an even number tolerates no more failures than 1", severity: .warning),
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: 4"), location: "15:13", message: "4 managers",
      severity: .warning),
    Case(
      text: replacing("managers: [node01, node02, node03]", with: "managers: [node01, node01, node03]"), location: "15:22",
      message: "manager \"node01\" is listed twice"),
    // Storage by role.
    Case(
      text: replacing("    model: pi4", with: "    model: pi4\n    docker_storage: tmpfs:2G"), location: "23:21",
      message: "node01 is a manager with docker_storage tmpfs"),
    Case(
      text: replacing("    labels: { rack: b }", with: "    labels: { rack: b }\n    docker_storage: tmpfs:2G"),
      location: "33:21", message: "keeps Docker in memory (tmpfs)", severity: .warning),
    // Power.
    Case(
      text: replacing("  docker_storage: loopfile:8G", with: "  docker_storage: loopfile:8G\n  power: { driver: relay }"),
      location: "14:20", message: "unknown power driver \"relay\""),
    Case(
      text: replacing(
        "  docker_storage: loopfile:8G", with: "  docker_storage: loopfile:8G\n  power: { driver: command, on: \"x {port}\" }"),
      location: "19:5", message: "node node01 power: the command driver needs \"off\""),
    // Labels.
    Case(
      text: replacing("labels: { rack: b }", with: "labels: { \"bad key!\": b }"), location: "32:15",
      message: "is not a valid Docker label key"),
    // Version.
    Case(text: replacing("version: 1", with: "version: 2"), location: "1:10", message: "version \"2\" is not supported"),
  ]

  @Test(arguments: cases)
  func reportsTheProblemWhereItIs(_ testCase: Case) {
    Self.expectLocated(testCase)
  }

  /// `testCase.text` gives a diagnostic holding `testCase.message`, at its location, of its
  /// severity; an error leaves no cluster, a warning does.
  static func expectLocated(_ testCase: Case) {
    let decoded = decode(testCase.text)
    let match = decoded.diagnostics.first { $0.message.contains(testCase.message) }
    #expect(
      match != nil,
      "no diagnostic containing \"\(testCase.message)\"; got \(decoded.diagnostics.map { "\($0.location): \($0.message)" })")
    if let match {
      #expect(match.location.description == testCase.location, "\(match.message)")
      #expect(match.severity == testCase.severity)
    }
    if testCase.severity == .error {
      #expect(decoded.cluster == nil)
    } else {
      #expect(decoded.cluster != nil)
    }
  }

  @Test func reportsEveryProblemAtOnce() {
    let text = replacing("ip: 10.42.0.2\n", with: "ip: 10.43.0.2\n")
      .replacingOccurrences(of: "lan: dhcp", with: "lan: dchp")
      .replacingOccurrences(of: "ssh:", with: "shh:")
      .replacingOccurrences(of: "mac: b8:27:eb:00:00:03", with: "mac: b8:27:eb:00:00:01")
    let errors = decode(text).diagnostics.errors
    #expect(errors.count >= 4, "\(errors)")
    #expect(errors.map(\.location) == errors.map(\.location).sorted())
  }

  @Test func defaultsFillTheGaps() throws {
    let text =
      "name: tiny\nhead: {interface: eth0, address: 192.168.50.1/24}\nnodes:\n  - {name: a1, ip: 192.168.50.2, mac: \"dc:a6:32:00:00:01\"}\n  - {name: a2, ip: 192.168.50.3, boot: preinstalled}\n  - {name: a3, ip: 192.168.50.4, boot: sd}\n"
    let cluster = try #require(decode(text).cluster)
    #expect(cluster.head.lan == .proxy)
    #expect(cluster.ssh.user == "root")
    #expect(cluster.ssh.key == nil)
    #expect(cluster.swarm.advertise == "eth0")
    #expect(cluster.managers.map(\.name) == ["a1", "a2", "a3"])
    #expect(cluster.node(named: "a1")?.dockerStorage == .loopfile(.gibibytes(16)))
    #expect(cluster.node(named: "a2")?.dockerStorage == .root)
    #expect(cluster.node(named: "a1")?.mac?.isRaspberryPi == true)
  }

  @Test func powerSettingsOverlayTheDefaults() throws {
    let text = """
      name: p
      head: {interface: eth0, address: 192.168.50.1/24}
      defaults:
        boot: preinstalled
        power: { driver: command, on: "relay {port} on", off: "relay {port} off" }
      nodes:
        - { name: a1, ip: 192.168.50.2, power: { port: "3" } }
        - { name: a2, ip: 192.168.50.3, power: none }

      """
    let cluster = try #require(decode(text).cluster, "\(decode(text).diagnostics)")
    #expect(
      cluster.node(named: "a1")?.power
        == PowerConfig(driver: "command", settings: ["on": "relay {port} on", "off": "relay {port} off", "port": "3"]))
    #expect(cluster.node(named: "a2")?.power.driver == "none")
  }

  @Test func aNetbootNodeWithoutMacOrSerialIsAWarning() throws {
    let text = "name: t\nhead: {interface: eth0, address: 192.168.50.1/24}\nnodes:\n  - name: a1\n    ip: 192.168.50.2\n"
    let decoded = decode(text)
    #expect(decoded.cluster != nil)
    #expect(decoded.diagnostics.warnings.first?.message.contains("no mac or serial") == true)
  }
}
