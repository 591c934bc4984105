import Foundation
import Testing

@testable import PiSwarmCore

/// Power in the core: each driver's keys checked where they are written, command templates
/// rendered with every value quoted, status output read per driver, and boot waits judged.
@Suite struct PowerTests {
  static func defaultsPower(_ power: String) -> String {
    replacing("  docker_storage: loopfile:8G", with: "  docker_storage: loopfile:8G\n  power: \(power)")
  }

  static let keyCases: [ValidationTests.Case] = [
    ValidationTests.Case(
      text: defaultsPower("{ driver: command, on: \"relay on {port}\", off: \"relay off {port}\", prot: 3 }"),
      location: "14:77", message: "unknown key \"prot\" for the command driver (did you mean \"port\"?)"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: command, on: \"relay on\", off: \"relay off\", password: hunter2 }"),
      location: "14:63", message: "piswarm secret set command-password"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: uhubctl, location: \"1-1.3\", port: 2, community: public }"),
      location: "14:57", message: "write community_secret: uhubctl-community instead"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: uhubctl, port: 2 }"), location: "19:5",
      message: "the uhubctl driver needs \"location\""),
    ValidationTests.Case(
      text: defaultsPower("{ driver: command, on: \"a\", off: \"b\", token_secret: \"Bad Name\" }"),
      location: "14:48", message: "is not a secret's name"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: command, on: \"relay on {host}\", off: \"relay off\" }"),
      location: "14:29", message: "on uses {host}, which is not a placeholder"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: command, on: \"a\", off: \"b\", status: \"s\", on_pattern: \"(on\" }"),
      location: "14:61", message: "on_pattern \"(on\" is not a regular expression"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: lab, lab: x, port: 1 }"), location: "14:33",
      message: "unknown key \"port\" for the lab driver"),
    ValidationTests.Case(
      text: defaultsPower("{ driver: command, on: \"a\", off: \"b\", via: node01, token_secret: relay }"),
      location: "14:61", message: "with via: the command runs on another node"),
    ValidationTests.Case(
      text: replacing("    model: pi4", with: "    model: pi4\n    power: { driver: clusterhat, via: ghost, port: 1 }"),
      location: "23:5", message: "via \"ghost\" is not a node in this file"),
    ValidationTests.Case(
      text: replacing("    model: pi4", with: "    model: pi4\n    power: { driver: clusterhat, via: node01, port: 1 }"),
      location: "23:5", message: "via names the node itself"),
    ValidationTests.Case(
      text: replacing("    model: pi4", with: "    model: pi4\n    power: { driver: clusterhat, port: 9000 }"),
      location: "23:34", message: "port \"9000\" must be a number from 1 to 16"),
    ValidationTests.Case(
      text: replacing(
        "    labels: { rack: b }", with: "    labels: { rack: b }\n    power: { driver: uhubctl, location: \"1-1\", port: 1 }"),
      location: "33:5", message: "share uhubctl location 1-1", severity: .warning),
    ValidationTests.Case(
      text: defaultsPower("{ driver: webhook, on_uri: \"http://pdu/on\", off_uri: \"http://pdu/off\", allow_http: true }"),
      location: "14:3", message: "plain http (allow_http: true): anyone on the network can fake the answers",
      severity: .warning),
    ValidationTests.Case(
      text: replacing("nodes:", with: "power:\n  retries: 9\nnodes:"), location: "18:12",
      message: "power.retries \"9\" must be 0 to 5"),
    ValidationTests.Case(
      text: replacing("nodes:", with: "power:\n  boot_timeouts: { dhcp: 60, tfpt: 10 }\nnodes:"), location: "18:30",
      message: "unknown key \"tfpt\" in power.boot_timeouts (did you mean \"tftp\"?)"),
  ]

  @Test(arguments: keyCases) func driverKeysAreCheckedWhereTheyAreWritten(_ testCase: ValidationTests.Case) {
    ValidationTests.expectLocated(testCase)
  }

  @Test func thePowerSectionSetsTimeoutsRetriesAndShutdown() throws {
    let text = replacing(
      "nodes:", with: "power:\n  boot_timeouts: { dhcp: 30, ssh: 400 }\n  retries: 2\n  shutdown_timeout: 90\nnodes:")
    let cluster = try #require(decode(text).cluster, "\(decode(text).diagnostics)")
    #expect(cluster.power.bootTimeouts.dhcp == 30 && cluster.power.bootTimeouts.ssh == 400)
    #expect(cluster.power.bootTimeouts.tftp == BootTimeouts().tftp)
    #expect(cluster.power.retries == 2 && cluster.power.shutdownTimeout == 90)
    #expect(try #require(decode(baseFile).cluster).power == PowerSettings())
  }

  @Test func aNodesKeysAreCheckedWithTheDefaultsTheyOverlay() throws {
    // defaults give on/off; the node adds its port; a secret by name is fine.
    let text = Self.defaultsPower("{ driver: command, on: \"relay {port} on\", off: \"relay {port} off\", token_secret: relay }")
      .replacingOccurrences(of: "    model: pi4", with: "    model: pi4\n    power: { port: 3 }")
    let decoded = decode(text)
    let cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    #expect(cluster.node(named: "node01")?.power.settings["port"] == "3")
    #expect(cluster.node(named: "node01")?.power.settings["token_secret"] == "relay")
  }

  @Test func requiredKeysMayComeFromTheNodesWhenTheDefaultsGiveTheRest() throws {
    // A hub's location in the defaults, each node's port on the node: docs/power.md's example.
    let text = Self.defaultsPower("{ driver: uhubctl, location: \"1-1.3\" }")
      .replacingOccurrences(of: "    model: pi4", with: "    model: pi4\n    power: { port: 2 }")
      .replacingOccurrences(of: "ip: 10.42.0.2\n", with: "ip: 10.42.0.2\n    power: { port: 3 }\n")
      .replacingOccurrences(of: "ip: 10.42.0.3\n", with: "ip: 10.42.0.3\n    power: { port: 4 }\n")
      .replacingOccurrences(of: "    labels: { rack: b }", with: "    labels: { rack: b }\n    power: { port: 5 }")
    let decoded = decode(text)
    let cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    #expect(cluster.node(named: "node01")?.power.settings == ["location": "1-1.3", "port": "2"])
  }

  // MARK: - Templates

  struct TemplateCase: Sendable, CustomTestStringConvertible {
    var template: String
    var port: String?
    var expected: String
    var testDescription: String { template }
  }

  static let node = Node(
    name: "node07", mac: MACAddress("dc:a6:32:00:00:07"), ip: IPv4Address("10.0.0.7") ?? IPv4Address(0), serial: "1a2b3c4d")

  @Test(arguments: [
    TemplateCase(template: "relay on {port}", port: "3", expected: "relay on 3"),
    TemplateCase(
      template: "curl -d node={node}&ip={ip} http://pdu/{mac}/{serial}", port: nil,
      expected: "curl -d node=node07&ip=10.0.0.7 http://pdu/dc:a6:32:00:00:07/1a2b3c4d"),
    TemplateCase(template: "relay {port}", port: "3; rm -rf /", expected: "relay '3; rm -rf /'"),
    TemplateCase(template: "relay {port}", port: "it's", expected: "relay 'it'\\''s'"),
    TemplateCase(template: "relay {port}", port: "$(reboot)", expected: "relay '$(reboot)'"),
    TemplateCase(template: "echo ${HOME} {node} {}", port: nil, expected: "echo ${HOME} node07 {}"),
  ])
  func templatesQuoteEveryValue(_ testCase: TemplateCase) throws {
    #expect(try PowerTemplate.render(testCase.template, node: Self.node, port: testCase.port).get() == testCase.expected)
  }

  @Test func aPlaceholderWithoutAValueIsAnErrorThatSaysWhatToAdd() {
    var node = Self.node
    node.mac = nil
    guard case .failure(let error) = PowerTemplate.render("wol {mac}", node: node, port: nil) else {
      Issue.record("rendered without a MAC")
      return
    }
    #expect(error.message.contains("uses {mac}, but the node has no mac"))
    #expect(error.advice?.contains("add mac:") == true)
    #expect(PowerTemplate.unknownPlaceholders("a {host} {port} ${x} {host}") == ["host"])
  }

  @Test func clearCredentialsAreRecognised() {
    for key in ["password", "community", "token", "auth_password", "priv_passphrase", "api_key", "secret"] {
      #expect(PowerDriverKeys.isClearCredential(key), "\(key)")
    }
    for key in ["community_secret", "port", "on_pattern", "location", "via"] {
      #expect(!PowerDriverKeys.isClearCredential(key), "\(key)")
    }
  }

  // MARK: - Status output

  @Test func commandStatusIsReadByPatternOrExitStatus() {
    #expect(PowerStatusReading.byPattern(output: "relay 3: ON\n", status: 0, onPattern: ": ON", offPattern: nil) == .on)
    #expect(PowerStatusReading.byPattern(output: "relay 3: OFF\n", status: 0, onPattern: ": ON", offPattern: nil) == .off)
    #expect(PowerStatusReading.byPattern(output: "??", status: 0, onPattern: "^on$", offPattern: "^off$") == .unknown)
    #expect(PowerStatusReading.byPattern(output: "off", status: 0, onPattern: "^on$", offPattern: "^off$") == .off)
    #expect(PowerStatusReading.byPattern(output: "", status: 0, onPattern: nil, offPattern: nil) == .on)
    #expect(PowerStatusReading.byPattern(output: "", status: 1, onPattern: nil, offPattern: nil) == .off)
    #expect(PowerStatusReading.byPattern(output: "", status: 2, onPattern: nil, offPattern: nil) == .unknown)
  }

  @Test func clusterctrlStatusIsReadPerPort() {
    let output = "clusterhat:1\naa:1\nled:1\nhat_version:2.5\np1:1\np2:0\np3:1\np4:0\n"
    #expect(PowerStatusReading.clusterHAT(output, port: "1") == .on)
    #expect(PowerStatusReading.clusterHAT(output, port: "2") == .off)
    #expect(PowerStatusReading.clusterHAT(output, port: "5") == .unknown)
    // p1 is not p11.
    #expect(PowerStatusReading.clusterHAT("p11:1\n", port: "1") == .unknown)
  }

  @Test func uhubctlStatusIsTheLastLineOfThePort() {
    let status = """
      Current status for hub 1-1.3 [0424:2514, USB 2.00, 4 ports, ppps]
        Port 1: 0100 power
        Port 2: 0503 power highspeed enable connect [0424:ec00]
        Port 3: 0000 off
      """
    #expect(PowerStatusReading.uhubctl(status, port: "2") == .on)
    #expect(PowerStatusReading.uhubctl(status, port: "3") == .off)
    #expect(PowerStatusReading.uhubctl(status, port: "4") == .unknown)
    let switched = """
      Current status for hub 1-1.3 [0424:2514, USB 2.00, 4 ports, ppps]
        Port 2: 0503 power highspeed enable connect [0424:ec00]
      Sent power off request
      New status for hub 1-1.3 [0424:2514, USB 2.00, 4 ports, ppps]
        Port 2: 0000 off
      """
    #expect(PowerStatusReading.uhubctl(switched, port: "2") == .off)
  }

  // MARK: - Boot waits

  @Test func bootWaitsFollowThePhasesOfANetbootNode() {
    let on = Date(timeIntervalSince1970: 1_000)
    let timeouts = BootTimeouts()
    let node = Self.node
    func judge(_ after: Double, seen: Double? = nil, kernel: Double? = nil, ssh: Bool = false) -> BootWait.Verdict {
      BootWait.judge(
        node, poweredOn: on, now: on + after, seen: seen.map { on + $0 }, kernelSent: kernel.map { on + $0 }, sshUp: ssh,
        timeouts: timeouts)
    }
    #expect(judge(10) == .waiting(.dhcp, since: on, deadline: on + 60))
    #expect(judge(61) == .stuck(.dhcp, waited: 61))
    #expect(judge(61, seen: 5) == .waiting(.tftp, since: on + 5, deadline: on + 125))
    #expect(judge(200, seen: 5) == .stuck(.tftp, waited: 195))
    #expect(judge(200, seen: 5, kernel: 30) == .waiting(.nfsRoot, since: on + 30, deadline: on + 210))
    #expect(judge(211, seen: 5, kernel: 30) == .stuck(.nfsRoot, waited: 181))
    #expect(judge(500, ssh: true) == .up)
    // Events of an earlier boot do not count.
    #expect(judge(61, seen: -100, kernel: -90) == .stuck(.dhcp, waited: 61))
    var card = node
    card.boot = .sd
    #expect(
      BootWait.judge(card, poweredOn: on, now: on + 181, seen: nil, kernelSent: nil, sshUp: false, timeouts: timeouts)
        == .stuck(.ssh, waited: 181))
  }
}
