import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// What the LAN sends (DHCP vendor classes, MACs) and what a writable cluster file says is input:
/// shown escaped, adopted only when it is a Pi, never made a manager unasked.
@Suite struct LANInputTests {
  static let file = """
    name: lab
    head:
      interface: eth1
      address: 10.42.0.250/24
      lan: dhcp
    swarm:
      managers: [node01]
    nodes:
      - name: node01
        ip: 10.42.0.1
        mac: b8:27:eb:00:00:01

    """

  static let piVendor = "PXEClient:Arch:00000:UNDI:002001"
  static let hiding = "PXEClient:Arch:00000:UNDI:002001\u{1b}[2K\u{1b}[1A\u{1b}]0;x\u{07}\u{9b}2J\u{202e}"

  /// A DHCP lease as dnsmasq's hook (the rendered script, run by dash) records it.
  static func sees(_ mac: String, _ ip: String, vendor: String, in dir: TemporaryDirectory) throws {
    let result = try NetbootCommandTests.hook(["add", mac, ip], vendor: vendor, in: dir)
    #expect(result.status == 0, "\(result.output)")
  }

  static func noTerminalControls(_ text: String) -> Bool {
    !text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0 == "\u{202e}" }
  }

  @Test func aVendorClassIsShownEscaped() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file)
    try Self.sees("00:11:22:33:44:55", "10.42.0.77", vendor: Self.hiding, in: dir)
    let table = try CLI.run(["discover"], in: dir)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(Self.noTerminalControls(table.stdout) && Self.noTerminalControls(table.stderr), "\(table.stdout.debugDescription)")
    #expect(table.stdout.contains("UNDI:002001\\x1b[2K\\x1b[1A"), "\(table.stdout)")
    let json = try CLI.run(["discover", "--json"], in: dir)
    #expect(Self.noTerminalControls(json.stdout), "\(json.stdout.debugDescription)")
    #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil, "still JSON: \(json.stdout)")
  }

  @Test func discoverAddsOnlyPisUnlessAny() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file)
    try Self.sees("b8:27:eb:00:00:09", "10.42.0.109", vendor: Self.piVendor, in: dir)
    try Self.sees("00:11:22:33:44:55", "10.42.0.77", vendor: "PXEClient:Arch:00007:UNDI:003016", in: dir)
    // Without --add: what --add would do.
    let shown = try CLI.run(["discover"], in: dir)
    #expect(shown.stdout.contains("b8:27:eb:00:00:09") && shown.stdout.contains("00:11:22:33:44:55"), "\(shown.stdout)")
    #expect(shown.stderr.contains("--add would add node02"), "\(shown.stderr)")
    #expect(shown.stderr.contains("00:11:22:33:44:55") && shown.stderr.contains("--any"), "\(shown.stderr)")
    #expect(dir.read("cluster.yml") == Self.file)

    let added = try CLI.run(["discover", "--add"], in: dir)
    #expect(added.status == 0, "\(added.stderr)")
    let cluster = try #require(ClusterFile.decode(text: dir.read("cluster.yml") ?? "").cluster)
    #expect(cluster.nodes.compactMap { $0.mac?.description } == ["b8:27:eb:00:00:01", "b8:27:eb:00:00:09"])
    #expect(added.stderr.contains("not a Raspberry Pi"), "\(added.stderr)")

    let any = try CLI.run(["discover", "--add", "--any"], in: dir)
    #expect(any.status == 0, "\(any.stderr)")
    let all = try #require(ClusterFile.decode(text: dir.read("cluster.yml") ?? "").cluster)
    #expect(all.nodes.compactMap { $0.mac?.description } == ["b8:27:eb:00:00:01", "b8:27:eb:00:00:09", "00:11:22:33:44:55"])
    #expect(all.managers.map(\.name) == ["node01"])
  }

  /// With swarm.managers unset the first three nodes manage the swarm: adding two boards to a
  /// one-node file would make both managers.
  @Test func discoverNeverAddsAManagerUnasked() throws {
    let dir = TemporaryDirectory()
    let file = Self.file.replacingOccurrences(of: "swarm:\n  managers: [node01]\n", with: "")
    dir.write("cluster.yml", file)
    try Self.sees("b8:27:eb:00:00:09", "10.42.0.109", vendor: Self.piVendor, in: dir)
    try Self.sees("dc:a6:32:00:00:0a", "10.42.0.110", vendor: Self.piVendor, in: dir)
    let refused = try CLI.run(["discover", "--add"], in: dir)
    #expect(refused.status == 64, "\(refused.stderr)")
    #expect(refused.stderr.contains("manager") && refused.stderr.contains("--allow-managers"), "\(refused.stderr)")
    #expect(dir.read("cluster.yml") == file)

    let asked = try CLI.run(["discover", "--add", "--allow-managers"], in: dir)
    #expect(asked.status == 0, "\(asked.stderr)")
    let cluster = try #require(ClusterFile.decode(text: dir.read("cluster.yml") ?? "").cluster)
    #expect(cluster.managers.count == 3)
  }

  @Test func validateWarnsAboutAClusterFileOthersCanWrite() throws {
    let dir = TemporaryDirectory()
    let path = dir.write("cluster.yml", Self.file)
    chmod(path, 0o644)
    let clean = try CLI.run(["validate"], in: dir)
    #expect(clean.status == 0 && !clean.stderr.contains("writable"), "\(clean.stderr)")
    chmod(path, 0o666)
    let open = try CLI.run(["validate"], in: dir)
    #expect(open.status == 0, "\(open.stderr)")
    #expect(open.stderr.contains("cluster.yml: warning: ") && open.stderr.contains("writable by"), "\(open.stderr)")
    let other = try CLI.run(["node", "ls"], in: dir)
    #expect(other.stderr.contains("writable by"), "\(other.stderr)")
    if getuid() == 0 {
      chmod(path, 0o644)
      chown(path, 65534, 65534)
      let owned = try CLI.run(["validate"], in: dir)
      #expect(owned.stderr.contains("owned by uid 65534"), "\(owned.stderr)")
    }
  }

  @Test func validateWarnsWhenNetbootNodesSitOnASharedLAN() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file)
    let onItsOwn = try CLI.run(["validate"], in: dir)
    #expect(!onItsOwn.stderr.contains("shared LAN"), "\(onItsOwn.stderr)")
    dir.write("cluster.yml", Self.file.replacingOccurrences(of: "lan: dhcp", with: "lan: proxy"))
    let shared = try CLI.run(["validate"], in: dir)
    #expect(shared.status == 0, "\(shared.stderr)")
    #expect(shared.stderr.contains("warning: ") && shared.stderr.contains("shared LAN"), "\(shared.stderr)")
    #expect(shared.stderr.contains("docs/security.md"), "\(shared.stderr)")
  }

  @Test func netbootApplyWarnsWhenNetbootNodesSitOnASharedLAN() throws {
    let dir = TemporaryDirectory()
    let file =
      Self.file.replacingOccurrences(of: "lan: dhcp", with: "lan: proxy")
      .replacingOccurrences(
        of: "  lan: proxy\n",
        with:
          "  lan: proxy\n  tftp_root: \(dir.file("tftp"))\n  nfs_root: \(dir.file("nfs"))\n  dnsmasq_conf: \(dir.file("dnsmasq.conf"))\n"
      )
    dir.write("cluster.yml", file)
    try FileManager.default.createDirectory(atPath: dir.file("firmware"), withIntermediateDirectories: true)
    let result = try CLI.run(["netboot", "apply", "--files-only", "--no-roots", "--firmware", dir.file("firmware")], in: dir)
    #expect(result.stderr.contains("shared LAN"), "\(result.stderr)")
  }
}
