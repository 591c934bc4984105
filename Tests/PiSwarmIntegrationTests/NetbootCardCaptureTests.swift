import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A node of the journey captured and deployed to cards: a lab with one namespace manager and
/// one QEMU arm64 VM, node04, netbooted diskless from piswarm's dnsmasq and NFS export (as in
/// JourneyTests: the Raspberry-Pi-OS-shaped real-OS image, `docker_storage: loopfile:2G`,
/// the `lab` power driver) and joined by `up`. `piswarm image capture node04 --name golden
/// --freeze` builds a card image on the head from node04's current root generation and the
/// store's boot files of realos; node04 is switched off and dropped from cluster.yml; one
/// `burn` writes golden to two loop-device cards for node08 and node09; both boot in QEMU
/// (2 VMs at most at once), each with its own identity (host name, the host key pinned at burn
/// answering under strict SSH, a machine-id of its own and not node04's, no swarm state of
/// node04), the root on the card (root=PARTUUID, ext4), and `up` joins both.
///
/// Real: the Debian arm64 OS, systemd, cloud-init, NetworkManager, Docker 20.10, sshd, dnsmasq,
/// nfs-ganesha, mke2fs/mtools/sfdisk on the head. Shaped: QEMU's virt board and Debian's kernel
/// for a Pi; cards are loop devices. Slow (minutes under TCG): `make e2e` only.
@Suite(.serialized, .enabled(if: RealOS.shouldRun)) struct NetbootCardCaptureTests {
  static let vm = JourneyTests.VM(node: "node04", mac: "52:54:00:5e:0c:04", host: 14)

  struct Captured: Decodable {
    struct Netboot: Decodable {
      var root: String
      var generation: Int
      var sourceImage: String
    }
    struct Image: Decodable {
      var rawBytes: UInt64
      var seconds: Double
    }
    var netboot: Netboot?
    var frozen: Bool
    var captured: Image
  }

  @Test func aNetbootNodeCapturedDeploysToTwoCardsThatJoinTheSwarm() throws {
    guard EndToEnd.require(RealOS.missing) else { return }
    let started = Date()
    _ = try RealOS.buildImage()
    let boot = try DisklessBoot(mac: Self.vm.mac, ip: "", node: Self.vm.node)
    var cards: [CardBootTests.CardVM] = []
    defer {
      for card in cards { card.stop() }
      boot.stop()
    }
    let lab = boot.lab
    let labName = "nc" + lab.id.prefix(8)
    boot.labVM = labName
    var labUp = try boot.piswarm(["lab", "up", "--name", labName, "--nodes", "1", "--managers", "1"], timeout: 600)
    if labUp.status != 0 {
      labUp = try boot.piswarm(["lab", "up", "--name", labName, "--nodes", "1", "--managers", "1"], timeout: 600)
    }
    try #require(labUp.status == 0, "lab up: \(labUp.stderrText)")
    let labFile = try #require(labUp.stdoutText.split(separator: "\n").last.map(String.init))
    let labText = try String(contentsOfFile: labFile, encoding: .utf8)
    let net = try #require(labText.firstMatch(of: /address: (10\.231\.\d+)\.1\/24/)?.1).description
    func nodeLines(_ name: String, mac: String, host: Int, netboot: Bool) -> [String] {
      ["  - name: \(name)", "    mac: \"\(mac)\"", "    ip: \(net).\(host)"]
        + (netboot
          ? ["    model: pi4", "    boot: netboot", "    docker_storage: loopfile:2G"]
          : ["    model: other", "    boot: sd", "    power: none"])
    }
    func writeCluster(_ nodes: [[String]]) {
      lab.dir.write("cluster.yml", Self.cluster(boot, labText: labText) + nodes.joined().map { $0 + "\n" }.joined())
    }
    func up(_ label: String) throws {
      var output = try boot.piswarm(["up"] + JourneyTests.netbootOptions, timeout: 3600)
      if output.status != 0 {
        print("netboot capture: up (\(label)) again after:\n\(output.stderrText.suffix(2000))")
        output = try boot.piswarm(["up"] + JourneyTests.netbootOptions, timeout: 3600)
      }
      print("netboot capture: up (\(label)):\n\(output.stderrText.suffix(2000))")
      try #require(output.status == 0, "up (\(label)): \(output.stderrText.suffix(3000))")
    }
    func swarmNodes() throws -> String {
      try JourneyTests.exec(boot, "node01", "docker node ls --format '{{.Hostname}} {{.Status}}'")
    }

    // node04 netboots and joins, as in the journey.
    let node04 = nodeLines(Self.vm.node, mac: Self.vm.mac, host: Self.vm.host, netboot: true)
    writeCluster([node04])
    try boot.importImage(RealOS.cache + "/realos.img", name: "realos")
    let (kernel, initrd) = RealOS.importedBoot(lab.state)
    try boot.addLabVM(
      lab: labName, kernel: kernel, initrd: initrd, memoryMiB: 1024, node: Self.vm.node, mac: Self.vm.mac, labSwitch: true)
    try Files.makeDirectory(lab.state + "/netboot", mode: 0o755)
    try Data().write(to: URL(fileURLWithPath: lab.state + "/netboot/ganesha.conf"))
    boot.ganesha = try DisklessBoot.startGanesha(lab, followingMounts: true)
    _ = try DisklessBoot.restartGaneshaScript(lab, unshare: try #require(boot.ganesha))
    _ = boot.dnsmasqRestartScript(extra: ["--dhcp-broadcast"])
    try up("node04 joins")
    let joined = try swarmNodes()
    #expect(joined.contains("node04 Ready"), "\(joined)")
    let facts04 = try JourneyTests.exec(boot, Self.vm.node, CardBootTests.facts)
    func fact(_ text: String, _ key: String) -> String {
      text.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } ?? ""
    }
    #expect(fact(facts04, "root").contains("nfs"), "\(facts04)")
    let machine04 = fact(facts04, "machine-id")

    // The capture: from the head, node04 running (told to sync).
    let captureStarted = Date()
    let capture = try boot.piswarm(["image", "capture", Self.vm.node, "--name", "golden", "--freeze", "--json"], timeout: 3600)
    let captureSeconds = Date().timeIntervalSince(captureStarted)
    print("netboot capture: capture:\n\(capture.stderrText.suffix(2000))")
    try #require(capture.status == 0, "\(capture.stderrText)")
    let captured = try JSONDecoder().decode(Captured.self, from: capture.stdout)
    let netboot = try #require(captured.netboot, "\(capture.stdoutText)")
    #expect(netboot.root == lab.dir.file("nfs") + "/node04" && netboot.generation == 1 && netboot.sourceImage == "realos")
    #expect(captured.frozen && capture.stderrText.contains("cannot be frozen"), "\(capture.stderrText)")

    // node04 off; dnsmasq learns node08's and node09's reservations (lan: dhcp) while node04
    // is still a netboot node (up's netboot step renders dnsmasq's file for clusters with
    // netboot nodes), then node04 leaves cluster.yml; node08 and node09 burned from golden at once.
    let off = try boot.piswarm(["power", "off", Self.vm.node], timeout: 300)
    #expect(off.status == 0, "\(off.stderrText)")
    let macs = ["node08": "52:54:00:5c:0c:08", "node09": "52:54:00:5c:0c:09"]
    let cardLines = [
      nodeLines("node08", mac: macs["node08"] ?? "", host: 18, netboot: false),
      nodeLines("node09", mac: macs["node09"] ?? "", host: 19, netboot: false),
    ]
    writeCluster([node04] + cardLines)
    // The cards are not on yet, and node04 is off: up's refusals for them are expected here.
    let learned = try boot.piswarm(["up", "--only", "netboot"] + JourneyTests.netbootOptions, timeout: 600)
    #expect(learned.stderrText.contains("restart dnsmasq"), "\(learned.stderrText)")
    let conf = Files.readWhole(lab.dir.file("etc/dnsmasq.conf")) ?? ""
    #expect(conf.contains(macs["node08"] ?? "?") && conf.contains(macs["node09"] ?? "?"), "\(conf)")
    writeCluster(cardLines)
    for name in ["node08", "node09"] {
      let host = name == "node08" ? 18 : 19
      let vm = try CardBootTests.CardVM(
        node: name, ip: "\(net).\(host)", mac: macs[name] ?? "", folder: lab.dir.path, namespace: "pslab-\(labName)",
        bridge: "br0", piswarm: { arguments, timeout in try boot.piswarm(arguments, timeout: timeout) })
      cards.append(vm)
    }
    let devices = try cards.map { try $0.makeCard() }
    let burnStarted = Date()
    let burned = try boot.piswarm(
      ["burn", "node[08-09]", "--device", devices[0], "--device", devices[1], "--image", "golden", "--force", "--yes", "--json"],
      timeout: 1200)
    let burnSeconds = Date().timeIntervalSince(burnStarted)
    try #require(burned.status == 0, "\(burned.stderrText)")
    let results = try JSONDecoder().decode([CardCaptureTests.Burned].self, from: burned.stdout)
    #expect(results.map(\.node) == ["node08", "node09"])
    #expect(results.allSatisfy { $0.identity?.format == "cloud-init" }, "\(burned.stdoutText)")

    // What Raspberry Pi OS's first boot does and the real-OS image's stand-in does not (as for
    // node07 in CardCaptureTests): the root grown to the card's end, room for Docker's images.
    for card in cards { try card.growRoot() }
    let bootStarted = Date()
    for card in cards { try card.start() }
    var facts: [String] = []
    var sshSeconds: [Double] = []
    for card in cards {
      let (output, seconds) = try card.waitForSSH(timeout: 1500)
      facts.append(output.stdoutText)
      sshSeconds.append(seconds)
    }
    let bootSeconds = Date().timeIntervalSince(bootStarted)
    #expect(fact(facts[0], "hostname") == "node08" && fact(facts[1], "hostname") == "node09", "\(facts)")
    let ids = [machine04, fact(facts[0], "machine-id"), fact(facts[1], "machine-id")]
    #expect(Set(ids).count == 3 && ids.allSatisfy(NodeIdentity.isMachineID), "\(ids)")
    for (card, text) in zip(cards, facts) {
      #expect(fact(text, "root") == "/dev/vda2 ext4", "\(card.node) runs from its card: \(text)")
      #expect(fact(text, "cmdline").contains("root=PARTUUID="), "\(text)")
      // The key pinned at burn answers (piswarm exec is strict), and it is the node's file.
      let key = try card.exec(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"], connectTimeout: 10).stdoutText
      let pin = Files.readWhole(lab.state + "/hostkeys/\(card.node).pub") ?? ""
      let blob = pin.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
      #expect(key.contains(blob), "\(card.node): \(key) vs \(pin)")
      let state = try card.exec(
        ["sh", "-c", "docker info --format '{{.Swarm.LocalNodeState}}'; ls /var/lib/piswarm-node 2>&1; cat /etc/fstab"],
        connectTimeout: 10)
      #expect(state.stdoutText.contains("inactive"), "\(card.node) carries no swarm state of node04: \(state.stdoutText)")
      #expect(state.stdoutText.contains("No such file"), "no loop file: \(state.stdoutText)")
      #expect(!state.stdoutText.contains("nfs"), "the card's fstab: \(state.stdoutText)")
    }
    let pins = ["node04", "node08", "node09"].map { Files.readWhole(lab.state + "/hostkeys/\($0).pub") ?? $0 }
    #expect(Set(pins).count == 3, "three distinct host keys")

    try up("node08 and node09 join")
    if !(try swarmNodes().contains("node08 Ready") && swarmNodes().contains("node09 Ready")) {
      try up("node08 and node09 join, again")
    }
    let list = try swarmNodes()
    print("netboot capture: swarm after the deploy:\n\(list)")
    #expect(list.contains("node08 Ready") && list.contains("node09 Ready"), "\(list)")
    print(
      String(
        format:
          "netboot capture e2e: capture of node04's root (%.0f MiB card image) in %.0f s; burn of 2 cards %.0f s; node08/node09 SSH after %.0f/%.0f s (both %.0f s); whole test %.0f s",
        Double(captured.captured.rawBytes) / 1_048_576, captureSeconds, burnSeconds, sshSeconds[0], sshSeconds[1], bootSeconds,
        Date().timeIntervalSince(started)))
  }

  /// The journey's cluster file without its registry and stack, up to `nodes:` and the lab's
  /// namespace node; the caller adds the VM and the cards.
  static func cluster(_ boot: DisklessBoot, labText: String) -> String {
    JourneyTests.headCluster(
      boot, labText: labText, beforeNodes: ["power:", "  boot_timeouts: { dhcp: 300, tftp: 1200, nfs_root: 1200, ssh: 600 }"]
    ).joined(separator: "\n") + "\n"
  }
}
