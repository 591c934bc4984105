import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

let validFile = """
  # hand-written, keep my comments
  name: lab
  head:
    interface: eth1   # facing the Pis
    address: 10.42.0.250/24
    lan: dhcp
  defaults:
    boot: preinstalled
  swarm:
    managers: 1
  nodes:
    # the first shelf
    - name: node01
      ip: 10.42.0.1
    - name: node02   # spare
      ip: 10.42.0.2

  """

@Suite(.serialized) struct CommandLineTests {
  /// Each bad input: exit 64, a located message, nothing written (not even the state directory).
  static let badInputs: [(String, [UInt8], String)] = [
    ("tabs", Array("name: a\nhead:\n\tinterface: eth0\n".utf8), ":3:1: error: a tab character"),
    ("indentation", Array("name: a\nhead:\n  interface: eth0\n address: 10.0.0.1/24\n".utf8), ":4:"),
    ("empty", [], ":1:1: error: the file is empty"),
    ("binary", [0x7F, 0x45, 0x4C, 0x46, 0x00, 0x01], ":1:5: error: this is not a text file"),
    (
      "wrong-type", Array(validFile.replacingOccurrences(of: "managers: 1", with: "managers: [[x]]").utf8),
      ":10:14: error: a manager must be a single value"
    ),
    (
      "unknown-key", Array(validFile.replacingOccurrences(of: "  lan: dhcp", with: "  lna: dhcp").utf8),
      ":6:3: error: unknown key \"lna\" in head (did you mean \"lan\"?)"
    ),
    (
      "bad-mac", Array(validFile.replacingOccurrences(of: "ip: 10.42.0.1\n", with: "ip: 10.42.0.1\n    mac: zz\n").utf8),
      ":15:10: error: node node01 mac \"zz\""
    ),
    (
      "bad-ip", Array(validFile.replacingOccurrences(of: "ip: 10.42.0.2", with: "ip: 10.42.0.300").utf8),
      ":16:9: error: node node02 ip \"10.42.0.300\" is not an IPv4 address, e.g. 10.42.0.10"
    ),
    ("bad-cidr", Array(validFile.replacingOccurrences(of: "10.42.0.250/24", with: "10.42.0.250/40").utf8), ":5:12: error:"),
    (
      "outside", Array(validFile.replacingOccurrences(of: "ip: 10.42.0.2", with: "ip: 10.43.0.2").utf8),
      "outside the head's subnet"
    ),
    (
      "head-address", Array(validFile.replacingOccurrences(of: "ip: 10.42.0.2", with: "ip: 10.42.0.250").utf8),
      "is the head's own address"
    ),
    (
      "duplicate-ip", Array(validFile.replacingOccurrences(of: "ip: 10.42.0.2", with: "ip: 10.42.0.1").utf8),
      "duplicate ip 10.42.0.1: node02 and node01 (line 13)"
    ),
    (
      "bad-name", Array(validFile.replacingOccurrences(of: "name: node02", with: "name: node_02").utf8),
      ":15:11: error: node name \"node_02\""
    ),
    ("empty-range", Array(validFile.replacingOccurrences(of: "name: node02", with: "name: node[09-03]").utf8), "is empty"),
    (
      "bad-lan", Array(validFile.replacingOccurrences(of: "lan: dhcp", with: "lan: static").utf8),
      ":6:8: error: head.lan \"static\""
    ),
    (
      "bad-storage",
      Array(validFile.replacingOccurrences(of: "boot: preinstalled", with: "boot: preinstalled\n  docker_storage: zfs").utf8),
      ":9:19: error:"
    ),
    (
      "manager-not-node", Array(validFile.replacingOccurrences(of: "managers: 1", with: "managers: [node09]").utf8),
      "manager \"node09\" is not a node"
    ),
    ("zero-managers", Array(validFile.replacingOccurrences(of: "managers: 1", with: "managers: 0").utf8), "swarm.managers is 0"),
  ]

  @Test(arguments: badInputs.map { $0.0 })
  func badInputExits64WithALocatedMessageAndWritesNothing(name: String) throws {
    guard let (_, bytes, expected) = Self.badInputs.first(where: { $0.0 == name }) else { return }
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", bytes: bytes)
    let before = dir.snapshot()
    let result = try CLI.run(["validate"], in: dir)
    #expect(result.status == 64, "\(result.stderr)")
    #expect(result.stderr.contains("cluster.yml" + (expected.hasPrefix(":") ? expected : "")), "\(result.stderr)")
    #expect(result.stderr.contains(expected), "\(result.stderr)")
    let located = result.stderr.split(separator: "\n").contains { line in
      line.hasPrefix("cluster.yml:") && line.split(separator: ":").count >= 4
    }
    #expect(located, "\(result.stderr)")
    #expect(dir.snapshot() == before)
    // node ls reads the same file and fails the same way, also writing nothing.
    let list = try CLI.run(["node", "ls"], in: dir)
    #expect(list.status == 64)
    #expect(dir.snapshot() == before)
  }

  @Test func warningsDoNotFailValidation() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile.replacingOccurrences(of: "managers: 1", with: "managers: 2"))
    let result = try CLI.run(["validate"], in: dir)
    #expect(result.status == 0)
    #expect(result.stderr.contains("cluster.yml:10:13: warning: 2 managers"))
    #expect(result.stdout.contains("ok: cluster lab, 2 nodes (2 managers, 0 workers), 1 warning"))
  }

  @Test func validateJSON() throws {
    let dir = TemporaryDirectory()
    dir.write("other.yml", validFile.replacingOccurrences(of: "lan: dhcp", with: "lan: dhpc"))
    let result = try CLI.run(["validate", "--json"], in: dir, environment: ["PISWARM_FILE": "other.yml"])
    #expect(result.status == 64)
    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    #expect(json?["valid"] as? Bool == false)
    let items = json?["diagnostics"] as? [[String: Any]]
    #expect(items?.first?["line"] as? Int == 6)
    #expect(items?.first?["severity"] as? String == "error")
  }

  @Test func missingFileSaysHowToStart() throws {
    let dir = TemporaryDirectory()
    let result = try CLI.run(["validate"], in: dir)
    #expect(result.status == 64)
    #expect(result.stderr.contains("run 'piswarm init'"))
  }

  @Test func initWritesAValidFileAPrivateStateDirectoryAndAKey() throws {
    let dir = TemporaryDirectory()
    let result = try CLI.run(
      ["init", "--name", "rack1", "--interface", "eth1", "--address", "10.42.0.250/24", "--lan", "dhcp"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let mode = try FileManager.default.attributesOfItem(atPath: dir.file("state"))[.posixPermissions] as? Int
    #expect(mode == 0o700)
    #expect(Files.exists(dir.file("state/ssh/id_ed25519")))
    let publicKey = dir.read("state/ssh/id_ed25519.pub") ?? ""
    #expect(publicKey.hasPrefix("ssh-ed25519 "))
    #expect(!result.stdout.contains("PRIVATE KEY") && !result.stderr.contains("PRIVATE KEY"))
    #expect(try CLI.run(["validate"], in: dir).status == 0)
    let store = try SQLiteStateStore(stateDirectory: dir.file("state"))
    #expect(try store.runs(limit: 5).first?.status == .succeeded)

    // A second init refuses to replace the file; --force keeps a backup.
    let again = try CLI.run(["init"], in: dir)
    #expect(again.status == 64)
    #expect(again.stderr.contains("exists already"))
    let forced = try CLI.run(["init", "--force", "--name", "other"], in: dir)
    #expect(forced.status == 0)
    #expect(dir.read("cluster.yml.bak")?.contains("name: rack1") == true)
    #expect(dir.read("cluster.yml")?.contains("name: other") == true)
  }

  @Test func initRejectsBadOptionsWithoutWritingAnything() throws {
    let dir = TemporaryDirectory()
    let result = try CLI.run(["init", "--name", "Bad Name"], in: dir)
    #expect(result.status == 64)
    #expect(dir.snapshot().isEmpty)
  }

  @Test func nodeAddAndRemoveKeepTheUsersComments() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile)
    let add = try CLI.run(["node", "add", "node03", "--mac", "b8:27:eb:00:00:03", "--label", "rack=b"], in: dir)
    #expect(add.status == 0, "\(add.stderr)")
    #expect(add.stdout.contains("added node03 (10.42.0.3)"))
    let edited = dir.read("cluster.yml") ?? ""
    #expect(edited.hasPrefix(validFile.trimmingCharacters(in: .newlines)))
    let list = try CLI.run(["node", "ls", "--json"], in: dir)
    let nodes = try JSONDecoder().decode([NodeListing.Entry].self, from: Data(list.stdout.utf8))
    #expect(nodes.map(\.name) == ["node01", "node02", "node03"])
    #expect(nodes.last?.labels == ["rack": "b"])
    #expect(nodes.first?.role == "manager")

    let remove = try CLI.run(["node", "rm", "node03"], in: dir)
    #expect(remove.status == 0, "\(remove.stderr)")
    #expect(dir.read("cluster.yml") == validFile)
  }

  @Test func nodeAddThatWouldBreakTheFileChangesNothing() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile)
    let before = dir.snapshot()
    for arguments in [
      ["node", "add", "node03", "--ip", "10.42.0.1"],  // duplicate address
      ["node", "add", "node03", "--ip", "10.99.0.1"],  // outside the subnet
      ["node", "add", "node01"],  // exists
      ["node", "add", "Node03"],  // not a host name
      ["node", "add", "node03", "--storage", "tmpfs"],  // no size
      ["node", "rm", "node09"],  // not there
    ] {
      let result = try CLI.run(arguments, in: dir)
      #expect(result.status == 64, "\(arguments): \(result.stderr)")
      #expect(!result.stderr.isEmpty)
      #expect(dir.snapshot() == before, "\(arguments) changed files")
    }
    let duplicate = try CLI.run(["node", "add", "node03", "--ip", "10.42.0.1"], in: dir)
    #expect(duplicate.stderr.contains("duplicate ip 10.42.0.1: node03 and node01"))
  }

  @Test func nodeAddTakesARangeAsTheClusterFileDoes() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile)
    let add = try CLI.run(["node", "add", "node[03-10]", "--ip", "10.42.0.13+", "--mac", "b8:27:eb:00:00:03+"], in: dir)
    #expect(add.status == 0, "\(add.stderr)")
    #expect(add.stdout.contains("added node[03-10] (8 nodes, 10.42.0.13 to 10.42.0.20)"), "\(add.stdout)")
    #expect(
      dir.read("cluster.yml")?.hasSuffix("  - name: \"node[03-10]\"\n    ip: 10.42.0.13+\n    mac: b8:27:eb:00:00:03+\n") == true)
    let list = try CLI.run(["node", "ls", "--json"], in: dir)
    let nodes = try JSONDecoder().decode([NodeListing.Entry].self, from: Data(list.stdout.utf8))
    #expect(nodes.map(\.name) == ["node01", "node02"] + (3...10).map { String(format: "node%02d", $0) })
    #expect(nodes.last?.ip == "10.42.0.20")
    #expect(nodes.last?.mac == "b8:27:eb:00:00:0a")

    // Without --ip: the next free addresses, written FIRST+.
    let more = try CLI.run(["node", "add", "spare[1-2]"], in: dir)
    #expect(more.status == 0, "\(more.stderr)")
    #expect(more.stdout.contains("added spare[1-2] (2 nodes, 10.42.0.21 to 10.42.0.22)"), "\(more.stdout)")
    #expect(try CLI.run(["node", "rm", "spare[1-2]"], in: dir).status == 0)
    #expect(try CLI.run(["node", "rm", "node[03-10]"], in: dir).status == 0)
    #expect(dir.read("cluster.yml") == validFile)
  }

  @Test(arguments: [
    (
      ["node[03-05]", "--ip", "10.42.0.13"],
      "--ip \"10.42.0.13\": a range of names takes the first node's address followed by \"+\""
    ),
    (["node03", "--ip", "10.42.0.13+"], "--ip \"10.42.0.13+\": FIRST+ is only for a range of names"),
    (["node[03-05]", "--mac", "b8:27:eb:00:00:03"], "--mac \"b8:27:eb:00:00:03\": a range of names takes"),
    (["node[03-05]", "--mac", "b8:27:eb:ff:ff:ff+"], "the addresses from b8:27:eb:ff:ff:ff run out"),
    (["node[03-05]", "--serial", "1a2b3c4d"], "--serial belongs to one board"),
    (["node[05-03]"], "write the lower number first"),
    (["Node[03-05]"], "makes names like \"Node03\""),
    (["node[01-03]", "--ip", "10.42.0.31+"], "node node01 is already in"),
    (["node[03-05]", "--ip", "10.42.0.1+"], "duplicate ip 10.42.0.1"),
    (["node[03-05]", "--ip", "10.42.0.254+"], "node[03-05]"),
  ])
  func nodeAddRefusesABadRangeAndChangesNothing(arguments: [String], message: String) throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile)
    let before = dir.snapshot()
    let result = try CLI.run(["node", "add"] + arguments, in: dir)
    #expect(result.status == 64, "\(arguments): \(result.stderr)")
    #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    #expect(dir.snapshot() == before, "\(arguments) changed files")
  }

  @Test func aSecondMutatingCommandFailsAtOnceNamingTheHolder() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile)
    try Files.makeDirectory(dir.file("state"), mode: 0o700)
    let lock = try StateLock.acquire(stateDirectory: dir.file("state"), command: "piswarm up")
    defer { lock.release() }
    let started = Date()
    let result = try CLI.run(["node", "add", "node03"], in: dir)
    #expect(Date().timeIntervalSince(started) < 5)
    #expect(result.status == 1)
    #expect(
      result.stderr.contains("another piswarm is changing this cluster: PID \(getpid()) running 'piswarm up'"), "\(result.stderr)"
    )
    #expect(dir.read("cluster.yml") == validFile)
    // Reading is never blocked.
    #expect(try CLI.run(["node", "ls"], in: dir).status == 0)
  }

  @Test(arguments: [
    [], ["init"], ["validate"], ["node"], ["node", "add"], ["node", "ls"], ["node", "rm"], ["image"], ["image", "import"],
    ["image", "ls"], ["image", "rm"], ["root"], ["root", "make"], ["root", "ls"], ["root", "ensure"], ["root", "rm"],
  ])
  func helpSaysWhatAndGivesAnExample(command: [String]) throws {
    let dir = TemporaryDirectory()
    let result = try CLI.run(command + ["--help"], in: dir)
    #expect(result.status == 0)
    #expect(result.stdout.contains("piswarm "), "\(result.stdout)")
    #expect(result.stdout.lowercased().contains("example") || result.stdout.contains("Start here"), "\(command)")
  }
}
