import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A burned card boots: `piswarm burn` writes the Raspberry-Pi-OS-shaped real-OS image
/// (scripts/realos-image.sh) to a loop device for a node, and QEMU boots that loop device as a
/// virtio disk, with the kernel, initramfs and cmdline.txt read from the card's own boot
/// partition (the fixture's initramfs mounts root=PARTUUID= from the disk, as a Pi's firmware
/// hands the card's root to the kernel). The card's first-boot mechanism runs, the host name is
/// the node's, and `piswarm exec` answers with the key pinned at burn time under strict host key
/// checking. The node has a fixed address (lan: none), rendered into its first-boot files.
///
/// Real: the Debian arm64 OS, systemd, cloud-init 22.4 reading the NoCloud seed from the boot
/// partition (labelled bootfs), NetworkManager, systemd.run= running firstrun.sh. Shaped: the
/// image's raspberrypi-sys-mods firstboot (a stand-in script), the kernel (Debian's, not the
/// Pi's), no Pi firmware. Slow (minutes under TCG): `make e2e` only.
@Suite(.serialized, .enabled(if: RealOS.shouldRun)) struct CardBootTests {
  final class CardBoot {
    let lab: NetbootLab
    let node: String
    let ip: String
    let mac: String
    var loop: String?
    var qemu: pid_t?
    var console: String { lab.dir.file("console-\(node).log") }

    init(node: String, ip: String, mac: String) throws {
      self.node = node
      self.ip = ip
      self.mac = mac
      lab = try NetbootLab()
      try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm-card", "-f", lab.dir.file("id_ed25519")]).check()
      lab.dir.write(
        "cluster.yml",
        """
        name: cards
        head:
          interface: br0
          address: \(NetbootLab.subnet).1/24
          lan: none
        ssh:
          user: root
          key: \(lab.dir.file("id_ed25519"))
        nodes:
          - name: \(node)
            ip: \(ip)
            mac: "\(mac)"
            boot: sd

        """)
      try lab.ip(["-n", lab.head, "tuntap", "add", "dev", "tap0", "mode", "tap"])
      try lab.ip(["-n", lab.head, "link", "set", "tap0", "master", "br0", "up"])
    }

    /// A 3 GiB card (a sparse file) as a loop device, burned for the node.
    func burn(_ extra: [String]) throws -> Command.Output {
      let file = lab.dir.file("card.img")
      try Command("truncate", ["-s", "3G", file]).check()
      let device = try Command("losetup", ["--find", "--show", file]).check().stdoutText.trimmingCharacters(
        in: .whitespacesAndNewlines)
      loop = device
      return try lab.piswarm(
        ["burn", node, "--device", device, "--image", RealOS.cache + "/realos.img", "--force", "--yes", "--json"] + extra)
    }

    func bootFile(_ name: String) throws -> String {
      let offset = 8192 * 512
      return try Command(
        "mtype", ["-i", "\(loop ?? "")@@\(offset)", "::\(name)"], environment: ["MTOOLS_SKIP_CHECK": "1"]
      ).check().stdoutText
    }

    /// QEMU on the card, with the card's kernel8.img, initramfs8 and cmdline.txt.
    func start() throws {
      let loop = try #require(loop)
      let offset = 8192 * 512
      for file in ["kernel8.img", "initramfs8"] {
        try Command(
          "mcopy", ["-o", "-i", "\(loop)@@\(offset)", "::\(file)", lab.dir.file(file)], environment: ["MTOOLS_SKIP_CHECK": "1"]
        ).check()
      }
      let cmdline = try bootFile("cmdline.txt").trimmingCharacters(in: .whitespacesAndNewlines)
      let pid = try Processes.spawnDetached(
        [
          "nsenter", "--net=/run/netns/\(lab.head)", "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72",
          "-accel", "tcg,tb-size=256", "-smp", "1", "-m", "1024", "-display", "none", "-monitor", "none",
          "-serial", "file:\(console)", "-no-reboot", "-kernel", lab.dir.file("kernel8.img"), "-initrd",
          lab.dir.file("initramfs8"), "-append", cmdline + " console=ttyAMA0",
          "-drive", "if=none,id=card,file=\(loop),format=raw,cache=none", "-device", "virtio-blk-pci,drive=card",
          "-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no",
          "-device", "virtio-net-pci,netdev=net0,mac=\(mac),romfile=",
        ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: lab.dir.file("qemu-\(node).out"))
      qemu = pid
      lab.pids.append(pid)
    }

    func consoleText() -> String { (try? String(contentsOfFile: console, encoding: .utf8)) ?? "" }

    /// `piswarm exec NODE -- COMMAND` from the head's namespace: strict, with the pinned key.
    func exec(_ command: [String], connectTimeout: Int) throws -> Command.Output {
      try Command(
        "nsenter",
        [
          "--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary, "exec", node, "--connect-timeout", "\(connectTimeout)",
          "--retries", "0", "--",
        ]
          + command,
        environment: ["PISWARM_STATE_DIR": lab.state, "PISWARM_FILE": lab.clusterFile, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
        timeout: 60
      ).run()
    }

    func waitForSSH(timeout: Double) throws -> (Command.Output, Double) {
      let started = Date()
      while Date().timeIntervalSince(started) < timeout {
        let output = try exec(["sh", "-c", CardBootTests.facts], connectTimeout: 3)
        if output.status == 0 { return (output, Date().timeIntervalSince(started)) }
        try #require(!consoleText().contains("piswarm-initramfs: FAILED"), "\(consoleText().suffix(3000))")
        try #require(qemu.map(Processes.isAlive) == true, "QEMU exited:\n\(consoleText().suffix(3000))")
        sleep(2)
      }
      throw TestFailure("no SSH to \(node) after \(Int(timeout)) s:\n\(consoleText().suffix(3000))")
    }

    /// Waits for QEMU to exit by itself (a reboot, with -no-reboot).
    func waitForExit(timeout: Double) throws {
      let qemu = try #require(qemu)
      let left = Processes.waitForExit([qemu], timeout: timeout)
      try #require(left.isEmpty, "QEMU did not reboot within \(Int(timeout)) s:\n\(consoleText().suffix(3000))")
      Processes.reap(qemu)
      lab.pids.removeAll { $0 == qemu }
      self.qemu = nil
    }

    func stop() {
      if let qemu {
        Processes.signal(qemu, SIGTERM)
        _ = Processes.waitForExit([qemu], timeout: 5)
      }
      lab.cleanUp()
      if let loop { Cleanup.detach(loop: loop) }
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
  }

  static let facts = """
    echo "hostname=$(hostname)"
    if [ -e /var/lib/raspberrypi-sys-mods-firstboot-ran ]; then echo firstboot=yes; fi
    if [ -e /var/lib/piswarm-firstrun ]; then echo firstrun=yes; fi
    echo "cloud-init=$(cloud-init status 2>/dev/null | head -n1)"
    echo "machine-id=$(cat /etc/machine-id)"
    echo "root=$(findmnt -n -o SOURCE,FSTYPE /)"
    echo "address=$(ip -4 -o addr show scope global | awk '{print $4}' | head -n1)"
    echo "password-login=$(sshd -T 2>/dev/null | sed -n 's/^passwordauthentication //p')"
    echo "cmdline=$(cat /proc/cmdline)"
    """

  static func build() throws {
    guard EndToEnd.require(RealOS.missing) else { throw TestFailure("prerequisites missing") }
    let built = try Command(
      "bash", [RealOS.repository + "/scripts/realos-image.sh", RealOS.cache, EndToEnd.fixture], timeout: 5400
    ).run()
    try #require(built.status == 0, "realos-image.sh failed: \(built.stderrText.suffix(3000))")
  }

  @Test func aCardBurnedWithCloudInitBootsAsItsNode() throws {
    try Self.build()
    let card = try CardBoot(node: "node07", ip: "\(NetbootLab.subnet).17", mac: "52:54:00:5a:00:07")
    defer { card.stop() }
    let started = Date()
    let burned = try card.burn([])
    try #require(burned.status == 0, "\(burned.stderrText)")
    let burnSeconds = Date().timeIntervalSince(started)
    #expect(burned.stdoutText.contains("\"format\" : \"cloud-init\""))
    try card.start()
    let (facts, seconds) = try card.waitForSSH(timeout: 600)
    let text = facts.stdoutText
    #expect(text.contains("hostname=node07"), "\(text)")
    #expect(text.contains("firstboot=yes"), "\(text)")
    #expect(text.contains("address=\(NetbootLab.subnet).17/24"), "\(text)")
    #expect(text.contains("root=/dev/vda2 ext4"), "\(text)")
    #expect(text.contains("password-login=no"), "\(text)")
    #expect(card.consoleText().contains("DataSourceNoCloud [seed="), "cloud-init did not read the card's seed")
    print(
      "card boot (cloud-init): burn + verify \(String(format: "%.1f", burnSeconds)) s, SSH after \(String(format: "%.1f", seconds)) s"
    )
  }

  @Test func aCardBurnedWithFirstrunBootsAsItsNode() throws {
    try Self.build()
    let card = try CardBoot(node: "node08", ip: "\(NetbootLab.subnet).18", mac: "52:54:00:5a:00:08")
    defer { card.stop() }
    let burned = try card.burn(["--first-boot", "firstrun"])
    try #require(burned.status == 0, "\(burned.stderrText)")
    try card.start()
    // firstrun.sh runs, removes itself and its cmdline words, and reboots (QEMU exits).
    let started = Date()
    try card.waitForExit(timeout: 600)
    let firstBoot = Date().timeIntervalSince(started)
    #expect(!(try card.bootFile("cmdline.txt")).contains("systemd.run"))
    try card.start()
    let (facts, seconds) = try card.waitForSSH(timeout: 600)
    let text = facts.stdoutText
    #expect(text.contains("hostname=node08"), "\(text)")
    #expect(text.contains("firstrun=yes"), "\(text)")
    #expect(text.contains("address=\(NetbootLab.subnet).18/24"), "\(text)")
    #expect(text.contains("password-login=no"), "\(text)")
    print(
      "card boot (firstrun.sh): first boot and reboot \(String(format: "%.1f", firstBoot)) s, then SSH after \(String(format: "%.1f", seconds)) s"
    )
  }
}
