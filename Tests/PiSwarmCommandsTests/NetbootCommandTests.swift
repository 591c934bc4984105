import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@Suite struct NetbootCommandTests {
  static let file = """
    name: lab
    head:
      interface: eth1
      address: 10.42.0.250/24
      lan: proxy
    nodes:
      - name: node01
        ip: 10.42.0.1
        mac: b8:27:eb:00:00:01

    """

  @Test func hookRecordsQuicklyAndPrintsNothing() throws {
    let dir = TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
    let started = Date()
    let result = try CLI.run(
      ["--state-dir", dir.file("state"), "netboot", "hook", "--", "add", "b8:27:eb:00:00:01", "10.42.0.1", "node01"], in: dir,
      environment: ["DNSMASQ_VENDOR_CLASS": "PXEClient:Arch:00000:UNDI:002001"])
    let elapsed = Date().timeIntervalSince(started)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.isEmpty && result.stderr.isEmpty)
    #expect(elapsed < 2, "the hook took \(elapsed) s; dnsmasq runs its script calls one after another")
    // Calls that say nothing about a boot are accepted and ignored.
    #expect(try CLI.run(["--state-dir", dir.file("state"), "netboot", "hook", "--", "init"], in: dir).status == 0)
    #expect(
      try CLI.run(["--state-dir", dir.file("state"), "netboot", "hook", "--", "tftp", "12", "10.42.0.1", "/t/x"], in: dir).status
        == 0)
    let events = try SQLiteStateStore(stateDirectory: dir.file("state")).bootEvents(limit: 10)
    #expect(events.map(\.kind) == [.lease, .tftpSent])
    #expect(events.first?.vendorClass == "PXEClient:Arch:00000:UNDI:002001")
  }

  /// Runs the hook `netboot apply` renders for the state directory `DIR/state`, as dnsmasq runs
  /// it (dash, the script's path, the words; `DNSMASQ_VENDOR_CLASS`).
  static func hook(_ words: [String], vendor: String? = nil, in dir: TemporaryDirectory) throws -> (status: Int32, output: String)
  {
    let folder = dir.file("state/netboot")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let script = dir.write(
      "state/netboot/dnsmasq-hook",
      try HookScript.render(spool: folder + "/hook-events", log: folder + "/dnsmasq.log", logLimit: 8 << 20))
    return try DnsmasqHookRun.run(script, words, vendor: vendor)
  }

  /// What the rendered hook records reaches every reader: a known node's lease and kernel
  /// (netboot status), a stranger's lease (discover), with no piswarm process and nothing in
  /// the state store.
  @Test func statusAndDiscoverReadTheHooksSpool() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file)
    let vendor = BootEvent.piVendorClass
    for words in [
      ["add", "b8:27:eb:00:00:01", "10.42.0.1", "node01"],
      ["tftp", "2300000", "10.42.0.1", "/srv/piswarm/tftp/b8-27-eb-00-00-01/start4.elf"],
      ["tftp", "190", "10.42.0.1", "/srv/piswarm/tftp/b8-27-eb-00-00-01/cmdline.txt"],
      ["tftp", "9000000", "10.42.0.1", "/srv/piswarm/tftp/b8-27-eb-00-00-01/kernel8.img"],
      ["add", "d8:3a:dd:00:00:99", "10.42.0.199", "stranger"],
    ] {
      let result = try Self.hook(words, vendor: words[0] == "add" ? vendor : nil, in: dir)
      #expect(result.status == 0 && result.output.isEmpty, "\(result)")
    }
    let status = try CLI.run(["netboot", "status", "--json"], in: dir)
    #expect(status.status == 0, "\(status.stderr)")
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    let progress = try decoder.decode([NodeBootProgress].self, from: Data(status.stdout.utf8))
    #expect(progress.first?.node == "node01" && progress.first?.phase == .kernel, "\(status.stdout)")
    #expect(progress.first?.steps.filter { $0.state == "observed" }.map(\.phase) == [.seen, .firmware, .kernel])
    let discover = try CLI.run(["discover", "--json"], in: dir)
    #expect(discover.status == 0, "\(discover.stderr)")
    #expect(discover.stdout.contains("\"mac\" : \"d8:3a:dd:00:00:99\""), "\(discover.stdout)")
    #expect(discover.stdout.contains("\"ip\" : \"10.42.0.199\"") && discover.stdout.contains(vendor), "\(discover.stdout)")
    #expect(!discover.stdout.contains("b8:27:eb:00:00:01"), "a known node is no sighting")
    #expect(!Files.exists(dir.file("state/\(SQLiteStateStore.fileName)")), "the hook started no piswarm")
  }

  @Test(arguments: [["netboot"], ["netboot", "apply"], ["netboot", "status"], ["discover"]])
  func helpSaysWhatAndGivesAnExample(command: [String]) throws {
    let dir = TemporaryDirectory()
    let result = try CLI.run(command + ["--help"], in: dir)
    #expect(result.status == 0)
    #expect(result.stdout.contains("piswarm "), "\(result.stdout)")
    #expect(result.stdout.contains("Examples:"), "\(command)")
  }

  @Test func hookIsHiddenFromHelp() throws {
    let dir = TemporaryDirectory()
    let help = try CLI.run(["netboot", "--help"], in: dir)
    #expect(help.stdout.contains("apply") && help.stdout.contains("status"))
    #expect(!help.stdout.contains("hook"))
  }

  @Test func discoverWithNothingSeenSaysSo() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file)
    let result = try CLI.run(["discover"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("no unknown machine asked to netboot"))
  }

  @Test func applyWithAnInvalidFileWritesNothing() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file.replacingOccurrences(of: "lan: proxy", with: "lan: proxi"))
    let result = try CLI.run(["netboot", "apply", "--files-only"], in: dir)
    #expect(result.status == 64)
    #expect(!Files.exists(dir.file("state")))
  }

  /// `--files-only` writes files and makes no mounts: node roots (clones, overlay mounts) only
  /// with `--roots`. Here there is neither the cluster key nor the image defaults.image names, so
  /// any attempt at a root fails the run (as the old --files-only did, exit 64).
  @Test func filesOnlyMakesNoRootsUnlessAskedTo() throws {
    let dir = TemporaryDirectory()
    let file = Self.file.replacingOccurrences(
      of: "  lan: proxy\n",
      with: """
          lan: proxy
          tftp_root: \(dir.file("tftp"))
          nfs_root: \(dir.file("nfs"))
          dnsmasq_conf: \(dir.file("dnsmasq.conf"))
        defaults:
          image: never-imported

        """)
    dir.write("cluster.yml", file)
    try FileManager.default.createDirectory(atPath: dir.file("firmware"), withIntermediateDirectories: true)
    let filesOnly = try CLI.run(["netboot", "apply", "--files-only", "--firmware", dir.file("firmware")], in: dir)
    #expect(filesOnly.status == 0, "\(filesOnly.stderr)")
    #expect(!filesOnly.stderr.contains("never-imported"), "\(filesOnly.stderr)")
    #expect(!Files.exists(dir.file("nfs/node01")))
    let withRoots = try CLI.run(
      ["netboot", "apply", "--files-only", "--roots", "--firmware", dir.file("firmware")], in: dir)
    #expect(withRoots.status != 0, "a root needs the cluster key and the image: \(withRoots.stderr)")
    let both = try CLI.run(["netboot", "apply", "--roots", "--no-roots"], in: dir)
    #expect(both.status == 64, "\(both.stderr)")
  }

  @Test func statusListsNeverSeenNodes() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", Self.file)
    let result = try CLI.run(["netboot", "status"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("node01") && result.stdout.contains("never seen"))
  }
}
