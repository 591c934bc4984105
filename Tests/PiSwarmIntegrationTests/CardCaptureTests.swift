import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// SD nodes in a lab swarm, and a captured card deployed to two more: a namespace lab (one
/// manager, real sshd and dockerd) and QEMU VMs booted from cards (loop devices) on the lab's
/// bridge. node07's card is burned from the real-OS image (firstrun.sh); `piswarm up` joins it to the swarm
/// (Docker on the card's own ext4 root) and `status` and `facts` show it as a card node.
/// `piswarm image capture node07 --freeze` copies its card over SSH into the image store; node07
/// is switched off and dropped from cluster.yml; one `piswarm burn` writes the capture to two
/// new cards for node08 and node09 at once; both boot with identities of their own (host key,
/// machine-id, cloud-init instance; node07's engine and swarm state gone), answer strict SSH
/// with the keys pinned at burn time, and `up` joins both.
///
/// Real: the Debian arm64 OS, systemd, cloud-init 22.4, NetworkManager, Docker 20.10, sshd, the
/// capture's dd/fsfreeze on the node, SSH, zstd. Shaped: QEMU's virt board and Debian's kernel
/// for a Pi and its firmware; cards are loop devices. Slow (minutes under TCG): `make e2e` only.
@Suite(.serialized, .enabled(if: RealOS.shouldRun)) struct CardCaptureTests {
  typealias Lab = LabIntegrationTests.Lab

  struct StatusRow: Decodable {
    var node: String
    var boot: String
    var ssh: String
    var docker: String?
    var role: String?
    var state: String?
    var backingFilesystem: String?
  }

  struct Captured: Decodable {
    struct Probe: Decodable {
      var disk: String
      var bytes: UInt64
    }
    struct Image: Decodable {
      struct Inner: Decodable {
        var name: String
        var source: String
      }
      var image: Inner
      var rawBytes: UInt64
      var rawSHA256: String
      var seconds: Double
    }
    var probe: Probe
    var frozen: Bool
    var captured: Image
  }

  struct Burned: Decodable {
    struct Identity: Decodable {
      var format: String
      var hostKeyFingerprint: String
      var instanceID: String
    }
    var node: String
    var identity: Identity?
    var error: String?
  }

  @Test func aCapturedCardDeploysToTwoNewNodesThatJoinTheSwarm() throws {
    try CardBootTests.build()
    let started = Date()
    let lab = Lab()
    var cards: [CardBootTests.CardVM] = []
    defer {
      for card in cards { card.stop() }
      lab.down()
    }
    let file = try lab.up(nodes: 1, managers: 1)
    let index = SwarmIntegrationTests().index(of: lab)
    let subnet = "10.231.\(index)"
    func piswarm(_ arguments: [String], _ timeout: Double) throws -> Command.Output {
      try lab.piswarm(["--file", file] + arguments, timeout: timeout)
    }
    func card(_ number: Int) throws -> CardBootTests.CardVM {
      let vm = try CardBootTests.CardVM(
        node: "node0\(number)", ip: "\(subnet).1\(number)", mac: String(format: "52:54:00:5c:%02x:%02x", index & 255, number),
        folder: lab.state.path, namespace: "pslab-\(lab.name)", bridge: "br0", piswarm: piswarm)
      cards.append(vm)
      return vm
    }
    func addNode(_ vm: CardBootTests.CardVM) throws {
      let entry = "  - name: \(vm.node)\n    mac: \(vm.mac)\n    ip: \(vm.ip)\n    model: other\n    boot: sd\n    power: none\n"
      let text = try String(contentsOfFile: file, encoding: .utf8)
      try (text + entry).write(toFile: file, atomically: true, encoding: .utf8)
    }
    func up(_ label: String) throws {
      let up = try piswarm(["up"], 900)
      print("up (\(label)):\n\(up.stderrText.suffix(2000))")
      try #require(up.status == 0, "piswarm up (\(label)): \(up.stderrText.suffix(3000))")
    }
    func swarmNodes() throws -> String {
      try lab.ssh("\(subnet).11", "docker node ls --format '{{.Hostname}} {{.Status}} {{.ID}}'").stdoutText
    }

    // node07: burned from the real-OS image with firstrun.sh (the cmdline's systemd.run=, as
    // Raspberry Pi Imager up to Bookworm), booted (firstrun.sh runs, then reboots), joined by
    // up. The cards deployed from its capture below take the cloud-init path: both first-boot
    // formats end in the swarm.
    let node07 = try card(7)
    try addNode(node07)
    let burned = try node07.burn(image: RealOS.cache + "/realos.img", ["--first-boot", "firstrun"])
    try #require(burned.status == 0, "\(burned.stderrText)")
    try node07.growRoot()
    try node07.start()
    try node07.waitForExit(timeout: 900)
    try node07.start()
    let (first, firstSSH) = try node07.waitForSSH(timeout: 900)
    #expect(first.stdoutText.contains("hostname=node07"), "\(first.stdoutText)")
    #expect(first.stdoutText.contains("firstrun=yes"), "\(first.stdoutText)")
    let plan = try piswarm(["plan", "--json"], 300)
    print("plan with a card node:\n\(plan.stdoutText)")
    #expect(plan.stdoutText.contains("node07"), "\(plan.stdoutText)")
    try up("node07 joins")
    if !(try swarmNodes().contains("node07 Ready")) { try up("node07 joins, again") }
    let joined = try swarmNodes()
    #expect(joined.contains("node07 Ready"), "\(joined)")
    let docker07 = try node07.exec(["docker", "info", "--format", "{{.Driver}} {{.DockerRootDir}}"], connectTimeout: 10)
    #expect(docker07.stdoutText.contains("overlay2 /var/lib/docker"), "Docker on the card's own root: \(docker07.stdoutText)")
    let status = try piswarm(["status", "--json"], 300)
    let rows = try JSONDecoder().decode([StatusRow].self, from: status.stdout)
    let row07 = try #require(rows.first { $0.node == "node07" }, "\(status.stdoutText)")
    #expect(row07.boot == "sd" && row07.ssh == "ok" && row07.role == "worker" && row07.state == "ready", "\(row07)")
    #expect(row07.backingFilesystem == "extfs", "Docker's storage is the card's ext4 root: \(row07)")
    let facts = try piswarm(["facts", "node07", "--json"], 120)
    #expect(facts.stdoutText.contains("/dev/vda2 ext4"), "facts name the card's root: \(facts.stdoutText)")

    // The capture: node07's card over SSH into the store, its file systems held still.
    let captureStarted = Date()
    let capture = try piswarm(["image", "capture", "node07", "--name", "golden", "--freeze", "--json"], 3600)
    let captureSeconds = Date().timeIntervalSince(captureStarted)
    print("capture:\n\(capture.stderrText.suffix(2000))")
    try #require(capture.status == 0, "\(capture.stderrText)")
    let captured = try JSONDecoder().decode(Captured.self, from: capture.stdout)
    #expect(captured.probe.disk == "/dev/vda" && captured.frozen)
    #expect(captured.captured.rawBytes == captured.probe.bytes)
    #expect(capture.stderrText.contains("frozen (fsfreeze)") || capture.stderrText.contains("remounted read-only"))
    // Released: the node writes again.
    #expect(
      try node07.exec(["sh", "-c", "echo after > /root/after-capture && cat /root/after-capture"], connectTimeout: 10).status == 0
    )
    // The hash taken as the bytes arrived is the stored file's (decompressed).
    let stored = try Command(
      "sh", ["-c", "zstd -dc \(lab.state.path)/images/golden/captured.img.zst | sha256sum"], timeout: 600
    ).check().stdoutText.prefix(64)
    #expect(captured.captured.rawSHA256 == String(stored))
    #expect(captured.captured.image.source == lab.state.path + "/images/golden/captured.img.zst")
    let listed = try piswarm(["image", "ls", "--json"], 60)
    #expect(listed.stdoutText.contains("\"golden\""), "\(listed.stdoutText)")

    // node07 off and out of cluster.yml; node08 and node09 burned from the capture at once.
    let key07 = lab.state.read("hostkeys/node07.pub") ?? ""
    node07.powerOff()
    let text = try String(contentsOfFile: file, encoding: .utf8)
    try text.replacingOccurrences(
      of: "  - name: node07\n    mac: \(node07.mac)\n    ip: \(node07.ip)\n    model: other\n    boot: sd\n    power: none\n",
      with: ""
    ).write(toFile: file, atomically: true, encoding: .utf8)
    let node08 = try card(8)
    let node09 = try card(9)
    try addNode(node08)
    try addNode(node09)
    let devices = [try node08.makeCard(), try node09.makeCard()]
    let deployStarted = Date()
    let deployed = try piswarm(
      ["burn", "node[08-09]", "--device", devices[0], "--device", devices[1], "--image", "golden", "--force", "--yes", "--json"],
      900)
    let deploySeconds = Date().timeIntervalSince(deployStarted)
    try #require(deployed.status == 0, "\(deployed.stderrText)")
    let results = try JSONDecoder().decode([Burned].self, from: deployed.stdout)
    #expect(results.map(\.node) == ["node08", "node09"])
    #expect(results.allSatisfy { $0.identity?.format == "cloud-init" }, "\(deployed.stdoutText)")
    #expect(Set(results.compactMap { $0.identity?.instanceID }).count == 2)

    let bootStarted = Date()
    try node08.start()
    try node09.start()
    let (facts08, ssh08) = try node08.waitForSSH(timeout: 1200)
    let (facts09, ssh09) = try node09.waitForSSH(timeout: 1200)
    let bootSeconds = Date().timeIntervalSince(bootStarted)
    func fact(_ output: Command.Output, _ key: String) -> String {
      output.stdoutText.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } ?? ""
    }
    #expect(fact(facts08, "hostname") == "node08" && fact(facts09, "hostname") == "node09")
    let ids = [fact(first, "machine-id"), fact(facts08, "machine-id"), fact(facts09, "machine-id")]
    #expect(Set(ids).count == 3 && ids.allSatisfy(NodeIdentity.isMachineID), "\(ids)")
    let keys = try [node08, node09].map { vm in
      try vm.exec(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"], connectTimeout: 10).stdoutText
    }
    let pinned = ["node08", "node09"].map { lab.state.read("hostkeys/\($0).pub") ?? "" }
    for (key, pin) in zip(keys, pinned) {
      let blob = pin.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
      #expect(key.contains(blob), "the node's host key is the one pinned at burn: \(key) vs \(pin)")
    }
    #expect(Set(pinned + [key07]).count == 3, "three distinct host keys")
    for vm in [node08, node09] {
      let state = try vm.exec(["sh", "-c", "docker info --format '{{.Swarm.LocalNodeState}}'; ls /root"], connectTimeout: 10)
      #expect(state.stdoutText.contains("inactive"), "\(vm.node) carries no swarm state of node07: \(state.stdoutText)")
      #expect(state.stdoutText.contains("after-capture") == false, "the capture is from before the write")
    }
    try up("node08 and node09 join")
    if !(try swarmNodes().contains("node08 Ready") && swarmNodes().contains("node09 Ready")) {
      try up("node08 and node09 join, again")
    }
    let list = try swarmNodes()
    print("swarm after the deploy:\n\(list)")
    #expect(list.contains("node08 Ready") && list.contains("node09 Ready"), "\(list)")
    let ids08 = list.split(separator: "\n").filter { $0.hasPrefix("node08 ") || $0.hasPrefix("node09 ") }
    #expect(ids08.count == 2, "one swarm entry each: \(list)")

    print(
      String(
        format:
          "card capture e2e: node07 SSH after %.0f s; capture of %.0f MiB in %.0f s (%.1f MB/s); burn of 2 cards from it %.0f s; node08/node09 SSH after %.0f/%.0f s (both up %.0f s); whole test %.0f s",
        firstSSH, Double(captured.captured.rawBytes) / 1_048_576, captureSeconds,
        Double(captured.captured.rawBytes) / max(captured.captured.seconds, 0.001) / 1_000_000, deploySeconds, ssh08, ssh09,
        bootSeconds, Date().timeIntervalSince(started)))
  }
}
