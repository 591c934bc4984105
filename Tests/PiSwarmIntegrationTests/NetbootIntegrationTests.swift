import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// Netboot for real: piswarm renders the files, real dnsmasq serves them in network namespaces,
/// pi-bootrom plays the boards. Each test has its own namespaces and folder and removes them
/// even when it fails.
@Suite(.enabled(if: NetbootLab.shouldRun)) struct NetbootIntegrationTests {
  static let subnet = NetbootLab.subnet

  func writeCluster(_ lab: NetbootLab, lan: String, nodes: String, image: String? = nil) {
    lab.dir.write(
      "cluster.yml",
      """
      name: nbtest
      head:
        interface: br0
        address: \(Self.subnet).1/24
        lan: \(lan)
        tftp_root: \(lab.tftpRoot)
        nfs_root: /srv/piswarm/nfs
        dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))
      \(image.map { "defaults:\n  image: \($0)\n" } ?? "")nodes:
      \(nodes)
      """)
  }

  /// `apply --files-only`; the firmware from the lab's folder, or (`imageStore`) from the image
  /// store in the (0700) state directory, which apply publishes where dnsmasq can read it.
  func apply(_ lab: NetbootLab, imageStore: Bool = false) throws -> [String: Any] {
    let firmware = imageStore ? [] : ["--firmware", lab.firmware]
    let applied = try lab.piswarm(
      ["netboot", "apply", "--files-only", "--no-roots", "--json", "--dnsmasq-option", "no-ping"] + firmware)
    #expect(applied.status == 0, "\(applied.stderrText)")
    return (try JSONSerialization.jsonObject(with: applied.stdout) as? [String: Any]) ?? [:]
  }

  func nfsroot(_ node: String) -> String { "nfsroot=\(Self.subnet).1:/srv/piswarm/nfs/\(node),nfsvers=3,tcp" }

  @Test func proxyModeServesEachBoardItsOwnFilesAndAStrangerNothing() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    writeCluster(
      lab, lan: "proxy",
      nodes: """
          - name: node01
            ip: \(Self.subnet).11
            mac: b8:27:eb:00:00:01
            model: pi4
          - name: node02
            ip: \(Self.subnet).12
            mac: dc:a6:32:00:00:02
            model: pi3b+
          - name: node03
            ip: \(Self.subnet).13
            serial: 1a2b3c4d
            model: pi4
        """)
    let result = try apply(lab)
    #expect(result["dnsmasq"] as? String == "not restarted (--files-only)")
    let rootEntries = try FileManager.default.contentsOfDirectory(atPath: lab.tftpRoot).sorted()
    #expect(rootEntries == ["1a2b3c4d", "b8-27-eb-00-00-01", "dc-a6-32-00-00-02"])

    try lab.addRouter()
    try lab.startHeadDnsmasq()
    let board1 = try lab.addBoard(1, mac: "b8:27:eb:00:00:01")
    let board2 = try lab.addBoard(2, mac: "dc:a6:32:00:00:02")
    let board3 = try lab.addBoard(3, mac: "e4:5f:01:00:00:03")
    let stranger = try lab.addBoard(4, mac: "2c:cf:67:00:00:09")

    // node01, a Pi 4 known by MAC: the router's address, piswarm's menu, its own folder.
    let (boot1, status1) = try lab.boot(board1, ["--model", "pi4", "--serial", "11111111"])
    #expect(status1 == 0, "\(boot1)")
    #expect(boot1.offers.contains { $0.piMenu && $0.yiaddr == "0.0.0.0" && $0.serverID == "\(Self.subnet).1" })
    #expect(boot1.offers.contains { !$0.piMenu && $0.serverID == "\(Self.subnet).254" })
    #expect(boot1.bootServer == "\(Self.subnet).1")
    #expect(boot1.address?.hasPrefix("\(Self.subnet).1") == true && boot1.address != "\(Self.subnet).1")
    #expect(boot1.prefix == "")
    #expect(boot1.file("11111111/start4.elf")?.status == "not found")
    let cmdline1 = try #require(boot1.file("cmdline.txt")?.content)
    #expect(cmdline1.contains(nfsroot("node01")))
    #expect(!cmdline1.contains("node02") && !cmdline1.contains("node03"))
    #expect(boot1.file("start4.elf")?.status == "ok")
    #expect(boot1.file("kernel8.img")?.bytes == NetbootLab.size("kernel8.img"))
    #expect(boot1.booted == true, "\(boot1.files)")

    // node02, a Pi 3B+: bootcode.bin first, then its own files.
    let (boot2, status2) = try lab.boot(board2, ["--model", "pi3"])
    #expect(status2 == 0, "\(boot2)")
    #expect(boot2.file("bootcode.bin")?.status == "ok")
    let cmdline2 = try #require(boot2.file("cmdline.txt")?.content)
    #expect(cmdline2.contains(nfsroot("node02")) && !cmdline2.contains("node01"))
    #expect(boot2.file("config.txt")?.content?.contains("kernel=kernel8.img") == true)

    // node03, a Pi 4 known only by serial: its MAC folder does not exist, its serial folder does.
    let (boot3, status3) = try lab.boot(board3, ["--model", "pi4", "--serial", "100000001a2b3c4d"])
    #expect(status3 == 0, "\(boot3)")
    #expect(boot3.prefix == "1a2b3c4d/")
    #expect(boot3.file("start4.elf")?.status == "ok")
    let cmdline3 = try #require(boot3.file("cmdline.txt")?.content)
    #expect(cmdline3.contains(nfsroot("node03")) && !cmdline3.contains("node01"))

    // A Pi nobody listed gets the menu (it asked) but no boot file at all.
    let (boot4, status4) = try lab.boot(stranger, ["--model", "pi4", "--serial", "0badf00d", "--revision", "c04170"])
    #expect(status4 == 0, "\(boot4)")
    #expect(boot4.files.allSatisfy { $0.status == "not found" }, "\(boot4.files)")
    #expect(boot4.file("cmdline.txt")?.content?.contains("nfsroot") != true)

    // dnsmasq's script calls come after the transfers: wait for the one that names the stranger.
    lab.waitUntil {
      (try? lab.piswarm(["discover", "--json"]).stdoutText.contains("0badf00d")) == true
    }
    let status = try lab.piswarm(["netboot", "status", "--json"])
    #expect(status.status == 0, "\(status.stderrText)")
    let progress = try JSONDecoder.iso.decode([NodeBootProgress].self, from: status.stdout)
    #expect(progress.map(\.node) == ["node01", "node02", "node03"])
    #expect(progress.allSatisfy { $0.phase == .kernel }, "\(progress)")
    #expect(progress.allSatisfy { $0.steps.first { $0.phase == .nfsRoot }?.state == "unknown" })
    #expect(progress.allSatisfy { $0.steps.first { $0.phase == .ssh }?.state == "down" })
    let table = try lab.piswarm(["netboot", "status"])
    #expect(table.stdoutText.contains("node01") && table.stdoutText.contains("kernel"))

    // discover: the stranger, with the serial folder it asked for; not the known boards.
    let discovered = try lab.piswarm(["discover", "--json"])
    #expect(discovered.status == 0, "\(discovered.stderrText)")
    let found = try JSONDecoder.iso.decode(DiscoverOutput.self, from: discovered.stdout).found
    #expect(found.map(\.mac) == ["2c:cf:67:00:00:09"], "\(found)")
    #expect(found.first?.isPi == true)
    #expect(found.first?.serial == "0badf00d")
    #expect(found.first?.vendorClass == BootEvent.piVendorClass)
    #expect(found.first?.model == "pi5")  // from option 97, which dnsmasq's log echoes

    let before = try String(contentsOfFile: lab.clusterFile, encoding: .utf8)
    let added = try lab.piswarm(["discover", "--add", "--json"])
    #expect(added.status == 0, "\(added.stderrText)")
    let after = try String(contentsOfFile: lab.clusterFile, encoding: .utf8)
    #expect(after.hasPrefix(before))
    let cluster = try #require(ClusterFile.decode(text: after).cluster)
    let node04 = try #require(cluster.node(named: "node04"))
    #expect(node04.mac?.description == "2c:cf:67:00:00:09")
    #expect(node04.serial == "0badf00d")
    #expect(node04.model == .pi5)
    #expect(node04.ip.description == "\(Self.subnet).14")
    #expect(try lab.piswarm(["discover", "--json"]).stdoutText.contains("\"found\" : [\n\n  ]"))

    // Applying again serves it: the stranger boots now.
    _ = try apply(lab)
    let (boot5, _) = try lab.boot(stranger, ["--model", "pi4", "--serial", "0badf00d"])
    #expect(boot5.file("cmdline.txt")?.content?.contains(nfsroot("node04")) == true, "\(boot5.files)")
  }

  @Test func dhcpModeLeasesEachBoardItsAddressAndApplyRemovesWhatWentAway() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    writeCluster(
      lab, lan: "dhcp",
      nodes: """
          - name: node01
            ip: \(Self.subnet).21
            mac: b8:27:eb:00:00:21
            serial: 2121abcd
          - name: node02
            ip: \(Self.subnet).22
            mac: b8:27:eb:00:00:22
        """, image: "testimg")
    // The image's boot files in the image store, as 'piswarm image import' leaves them.
    let imageBoot = lab.state + "/images/testimg/boot"
    try FileManager.default.createDirectory(atPath: lab.state + "/images/testimg", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: lab.firmware, toPath: imageBoot)
    let first = try apply(lab, imageStore: true)
    #expect((first["warnings"] as? [String])?.isEmpty == true, "\(first)")
    #expect(BootTreeSupport.mode(lab.state) == 0o700)
    try lab.startHeadDnsmasq()
    let board1 = try lab.addBoard(1, mac: "b8:27:eb:00:00:21")
    let board2 = try lab.addBoard(2, mac: "b8:27:eb:00:00:22")
    let stranger = try lab.addBoard(3, mac: "d8:3a:dd:00:00:99")

    for (board, node, address) in [(board1, "node01", "21"), (board2, "node02", "22")] {
      let (boot, status) = try lab.boot(board, ["--model", "pi4"])
      #expect(status == 0, "\(boot)")
      #expect(boot.address == "\(Self.subnet).\(address)")
      #expect(boot.offers.count == 1 && boot.offers.first?.piMenu == true)
      let cmdline = try #require(boot.file("cmdline.txt")?.content)
      #expect(cmdline.contains(nfsroot(node)))
      #expect(cmdline.hasSuffix("cgroup_enable=memory cgroup_memory=1\n"))
      // Served as nobody from the published copy of the 0700 image store.
      #expect(boot.file("start4.elf")?.status == "ok" && boot.file("kernel8.img")?.status == "ok", "\(boot.files)")
    }
    // Without dhcp_range, a machine not in the file gets no address at all.
    let (boot3, status3) = try lab.boot(stranger, ["--model", "pi4", "--timeout", "1"])
    #expect(status3 == 2)
    #expect(boot3.error == "no DHCP offer")

    // The hook recorded the leases and the transfers in its spool.
    lab.waitUntil {
      let events = lab.hookEvents
      return events.contains { $0.kind == .lease && $0.mac == "b8:27:eb:00:00:21" }
        && events.contains { $0.kind == .tftpSent && $0.path?.hasSuffix("b8-27-eb-00-00-22/kernel8.img") == true }
    }
    let events = lab.hookEvents
    #expect(events.contains { $0.kind == .lease && $0.mac == "b8:27:eb:00:00:21" && $0.ip == "\(Self.subnet).21" }, "\(events)")
    #expect(events.contains { $0.kind == .tftpSent && $0.path == "\(lab.tftpRoot)/b8-27-eb-00-00-22/kernel8.img" })
    // The hook keeps only transfers that mark a phase; the log has the rest.
    #expect(!events.contains { $0.kind == .tftpSent && $0.path?.hasSuffix("/cmdline.txt") == true }, "\(events)")
    let discovered = try lab.piswarm(["discover", "--json"])
    let found = try JSONDecoder.iso.decode(DiscoverOutput.self, from: discovered.stdout).found
    #expect(found.map(\.mac) == ["d8:3a:dd:00:00:99"])

    // Nothing changed: nothing written.
    let again = try apply(lab, imageStore: true)
    #expect((again["changes"] as? [Any])?.isEmpty == true, "\(again)")
    #expect(again["dnsmasqChanged"] as? Bool == false)
    #expect((again["dnsmasq"] as? String)?.hasPrefix("unchanged") == true)

    // node02 leaves the file: its folder goes, node01's stays as it was, dnsmasq's file changes.
    let config1 = try Data(contentsOf: URL(fileURLWithPath: "\(lab.tftpRoot)/b8-27-eb-00-00-21/cmdline.txt"))
    #expect(try lab.piswarm(["node", "rm", "node02"]).status == 0)
    let removed = try apply(lab, imageStore: true)
    let changes = (removed["changes"] as? [[String: String]]) ?? []
    #expect(changes.contains { $0["path"] == "\(lab.tftpRoot)/b8-27-eb-00-00-22" && $0["action"] == "removed" }, "\(changes)")
    #expect(removed["dnsmasqChanged"] as? Bool == true)
    #expect(!Files.exists("\(lab.tftpRoot)/b8-27-eb-00-00-22"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: "\(lab.tftpRoot)/b8-27-eb-00-00-21/cmdline.txt")) == config1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: lab.tftpRoot).sorted() == ["2121abcd", "b8-27-eb-00-00-21"])
    let dnsmasqConf = try String(contentsOfFile: lab.dir.file("etc/dnsmasq.conf"), encoding: .utf8)
    #expect(!dnsmasqConf.contains("b8:27:eb:00:00:22"))
  }
}

extension NetbootIntegrationTests {
  /// A real dnsmasq's lease and transfers through the rendered hook, with dnsmasq's log
  /// emptied so that only the hook's spool speaks: `netboot status` has the known node's phases,
  /// `discover` the stranger that got an address from the pool with its vendor class. The hook
  /// started no piswarm: the state store has no boot event.
  @Test func aRealLeaseAndTransferReachStatusAndDiscoverThroughTheHook() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    writeCluster(
      lab, lan: "dhcp\n  dhcp_range: \(Self.subnet).100-\(Self.subnet).120",
      nodes: """
          - name: node01
            ip: \(Self.subnet).41
            mac: b8:27:eb:00:00:41
        """)
    _ = try apply(lab)
    try lab.startHeadDnsmasq()
    let board = try lab.addBoard(1, mac: "b8:27:eb:00:00:41")
    let stranger = try lab.addBoard(2, mac: "d8:3a:dd:00:00:42")
    let (boot, status) = try lab.boot(board, ["--model", "pi4"])
    #expect(status == 0 && boot.file("kernel8.img")?.status == "ok", "\(boot)")
    let (strangerBoot, _) = try lab.boot(stranger, ["--model", "pi4", "--timeout", "2"])
    let strangerIP = try #require(strangerBoot.address, "\(strangerBoot)")
    #expect(strangerIP.hasPrefix("\(Self.subnet).1"), "from the pool: \(strangerIP)")

    lab.waitUntil {
      let events = lab.hookEvents
      return events.contains { $0.kind == .tftpSent && $0.path?.hasSuffix("/kernel8.img") == true }
        && events.contains { $0.kind == .lease && $0.mac == "d8:3a:dd:00:00:42" }
    }
    let events = lab.hookEvents
    let lease = try #require(events.first { $0.kind == .lease && $0.mac == "b8:27:eb:00:00:41" }, "\(events)")
    #expect(lease.ip == "\(Self.subnet).41" && lease.detail == "node01" && lease.vendorClass == BootEvent.piVendorClass)
    let kernel = try #require(events.first { $0.kind == .tftpSent && $0.path == "\(lab.tftpRoot)/b8-27-eb-00-00-41/kernel8.img" })
    #expect(kernel.time >= lease.time, "\(events)")
    #expect(events.contains { $0.kind == .lease && $0.mac == "d8:3a:dd:00:00:42" && $0.ip == strangerIP })

    // Only the hook's spool from here on.
    try Data().write(to: URL(fileURLWithPath: lab.state + "/netboot/dnsmasq.log"))
    let shown = try lab.piswarm(["netboot", "status", "--json"])
    #expect(shown.status == 0, "\(shown.stderrText)")
    let progress = try JSONDecoder.iso.decode([NodeBootProgress].self, from: shown.stdout)
    let node = try #require(progress.first { $0.node == "node01" }, "\(shown.stdoutText)")
    #expect(node.phase == .kernel, "\(shown.stdoutText)")
    #expect(node.steps.filter { $0.state == "observed" }.map(\.phase) == [.seen, .firmware, .kernel], "\(shown.stdoutText)")
    let discovered = try lab.piswarm(["discover", "--json"])
    let found = try JSONDecoder.iso.decode(DiscoverOutput.self, from: discovered.stdout).found
    #expect(found.map(\.mac) == ["d8:3a:dd:00:00:42"], "\(discovered.stdoutText)")
    #expect(found.first?.ip == strangerIP && found.first?.vendorClass == BootEvent.piVendorClass && found.first?.isPi == true)
    if Files.exists(lab.state + "/" + SQLiteStateStore.fileName) {
      #expect(try SQLiteStateStore(stateDirectory: lab.state).bootEvents(limit: 10).isEmpty, "no piswarm ran as the hook")
    }
  }
}

extension NetbootIntegrationTests {
  /// A Pi 5, now the common board: the ROM insists on the Pi menu (option 43), reads
  /// `SERIAL/config.txt` (its serial's low 8 hex digits), checks for `pieeprom.sig`, then reads
  /// its device tree, `kernel_2712.img` and initramfs from that folder; no start*.elf. Served
  /// from an image in the image store that carries the Pi 5's files.
  @Test func aPi5NetbootsItsOwnFilesFromItsSerialFolder() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    writeCluster(
      lab, lan: "proxy",
      nodes: """
          - name: node01
            ip: \(Self.subnet).31
            serial: 5a5b5c5d
            model: pi5
          - name: node02
            ip: \(Self.subnet).32
            serial: 6a6b6c6d
            model: pi5
        """, image: "raspios")
    try FileManager.default.createDirectory(atPath: lab.state + "/images/raspios", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: lab.firmware, toPath: lab.state + "/images/raspios/boot")
    let applied = try apply(lab, imageStore: true)
    #expect((applied["warnings"] as? [String])?.isEmpty == true, "\(applied)")
    try lab.addRouter()
    try lab.startHeadDnsmasq()
    let board = try lab.addBoard(1, mac: "2c:cf:67:00:00:31")

    let (boot, status) = try lab.boot(board, ["--model", "pi5", "--serial", "100000005a5b5c5d"])
    #expect(status == 0, "\(boot)")
    #expect(boot.offers.contains { $0.piMenu && $0.serverID == "\(Self.subnet).1" })
    #expect(boot.bootServer == "\(Self.subnet).1")
    #expect(boot.prefix == "5a5b5c5d/")
    #expect(boot.booted == true, "\(boot.files)")
    #expect(boot.files.first?.name == "5a5b5c5d/config.txt" && boot.files.first?.status == "ok", "\(boot.files)")
    #expect(boot.file("config.txt")?.content?.contains("for a pi5") == true)
    #expect(boot.file("pieeprom.sig")?.status == "not found")
    #expect(!boot.files.contains { $0.name.contains("start") }, "a Pi 5 reads no start*.elf: \(boot.files)")
    for name in ["bcm2712-rpi-5-b.dtb", "kernel_2712.img", "initramfs_2712"] {
      #expect(boot.file(name)?.status == "ok" && boot.file(name)?.bytes == NetbootLab.size(name), "\(name): \(boot.files)")
      #expect(boot.file(name)?.name == "5a5b5c5d/" + name)
    }
    let cmdline = try #require(boot.file("cmdline.txt")?.content)
    #expect(cmdline.contains(nfsroot("node01")) && !cmdline.contains("node02"))

    // Seen by its device tree (no start*.elf) and its kernel.
    lab.waitUntil {
      (try? lab.piswarm(["netboot", "status", "--json"]).stdoutText.contains("\"kernel\"")) == true
    }
    let progress = try JSONDecoder.iso.decode(
      [NodeBootProgress].self, from: try lab.piswarm(["netboot", "status", "--json"]).stdout)
    let node01 = try #require(progress.first { $0.node == "node01" })
    #expect(node01.phase == .kernel, "\(progress)")
    #expect(node01.steps.first { $0.phase == .firmware }?.state == "observed", "\(node01)")

    // An image without the Pi 5's files: apply says so by name.
    for name in ["bcm2712-rpi-5-b.dtb", "kernel_2712.img", "kernel8.img"] {
      try FileManager.default.removeItem(atPath: lab.state + "/images/raspios/boot/" + name)
    }
    let warned = try apply(lab, imageStore: true)
    let warnings = (warned["warnings"] as? [String]) ?? []
    #expect(warnings.contains { $0.hasPrefix("node01 (pi5)") && $0.contains("bcm2712*.dtb") }, "\(warnings)")
  }
}

enum BootTreeSupport {
  static func mode(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int
  }
}

struct DiscoverOutput: Codable {
  var found: [Sighting]
}

extension JSONDecoder {
  static var iso: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }
}
