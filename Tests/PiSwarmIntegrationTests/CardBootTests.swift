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
  /// A node booted from a card: a loop device on a sparse file, burned by `piswarm burn`, and
  /// QEMU with that loop device as its virtio disk and its tap on `bridge` in `namespace`.
  final class CardVM {
    let node: String
    let ip: String
    let mac: String
    let folder: String
    let namespace: String
    let tap: String
    /// How piswarm is run for this card (its state and cluster file, in the head's namespace).
    let piswarm: ([String], Double) throws -> Command.Output
    var loop: String?
    var qemu: pid_t?
    var console: String { folder + "/console-\(node).log" }

    init(
      node: String, ip: String, mac: String, folder: String, namespace: String, bridge: String,
      piswarm: @escaping ([String], Double) throws -> Command.Output
    ) throws {
      self.node = node
      self.ip = ip
      self.mac = mac
      self.folder = folder
      self.namespace = namespace
      self.piswarm = piswarm
      tap = "pc" + mac.split(separator: ":").suffix(3).joined()
      try Command("ip", ["-n", namespace, "tuntap", "add", "dev", tap, "mode", "tap"]).check()
      try Command("ip", ["-n", namespace, "link", "set", tap, "master", bridge, "up"]).check()
    }

    /// A 3 GiB card (a sparse file) as a loop device.
    func makeCard() throws -> String {
      let file = folder + "/card-\(node).img"
      try Command("truncate", ["-s", "3G", file]).check()
      let device = try Command("losetup", ["--find", "--show", file]).check().stdoutText.trimmingCharacters(
        in: .whitespacesAndNewlines)
      loop = device
      return device
    }

    /// The card made and burned for the node from `image`.
    func burn(image: String, _ extra: [String] = []) throws -> Command.Output {
      let device = try makeCard()
      return try piswarm(["burn", node, "--device", device, "--image", image, "--force", "--yes", "--json"] + extra, 300)
    }

    /// What Raspberry Pi OS's first boot does (raspberrypi-sys-mods' resize) and the real-OS
    /// image's stand-in does not: the root partition grown to the card's end, its ext4 with it.
    /// Shaped on the head (sfdisk, resize2fs through a loop device at the partition's offset).
    func growRoot() throws {
      let device = try #require(loop)
      _ = try Command("sfdisk", ["--no-reread", "--no-tell-kernel", "-N", "2", device]).check(input: Data(", +\n".utf8))
      let table = try Command("sfdisk", ["-d", device]).check().stdoutText
      let line = try #require(table.split(separator: "\n").last { $0.contains("type=83") }, "\(table)")
      let start = try #require(
        line.split(separator: ",").first { $0.contains("start=") }.flatMap {
          UInt64($0.split(separator: "=")[1].trimmingCharacters(in: .whitespaces))
        })
      let part = try Command("losetup", ["--find", "--show", "--offset", "\(start * 512)", device]).check().stdoutText
        .trimmingCharacters(in: .whitespacesAndNewlines)
      defer { Cleanup.detach(loop: part) }
      let fsck = try Command("e2fsck", ["-fp", part], timeout: 300).run()
      try #require(fsck.status <= 1, "e2fsck: \(fsck.stdoutText) \(fsck.stderrText)")
      try Command("resize2fs", [part], timeout: 300).check()
    }

    func bootFile(_ name: String) throws -> String {
      try Command(
        "mtype", ["-i", "\(loop ?? "")@@\(CardBootTests.bootOffset)", "::\(name)"], environment: ["MTOOLS_SKIP_CHECK": "1"]
      ).check().stdoutText
    }

    /// QEMU on the card, with the card's kernel8.img, initramfs8 and cmdline.txt.
    func start() throws {
      let loop = try #require(loop)
      for file in ["kernel8.img", "initramfs8"] {
        try Command(
          "mcopy", ["-o", "-i", "\(loop)@@\(CardBootTests.bootOffset)", "::\(file)", "\(folder)/\(node)-\(file)"],
          environment: ["MTOOLS_SKIP_CHECK": "1"]
        ).check()
      }
      let cmdline = try bootFile("cmdline.txt").trimmingCharacters(in: .whitespacesAndNewlines)
      qemu = try Processes.spawnDetached(
        [
          "nsenter", "--net=/run/netns/\(namespace)", "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72",
          "-accel", "tcg,tb-size=256", "-smp", "1", "-m", "1024", "-display", "none", "-monitor", "none",
          "-serial", "file:\(console)", "-no-reboot", "-kernel", "\(folder)/\(node)-kernel8.img", "-initrd",
          "\(folder)/\(node)-initramfs8", "-append", cmdline + " console=ttyAMA0",
          "-drive", "if=none,id=card,file=\(loop),format=raw,cache=none", "-device", "virtio-blk-pci,drive=card",
          "-netdev", "tap,id=net0,ifname=\(tap),script=no,downscript=no",
          "-device", "virtio-net-pci,netdev=net0,mac=\(mac),romfile=",
        ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: "\(folder)/qemu-\(node).out")
    }

    func consoleText() -> String { (try? String(contentsOfFile: console, encoding: .utf8)) ?? "" }

    /// `piswarm exec NODE -- COMMAND`: strict, with the pinned key.
    func exec(_ command: [String], connectTimeout: Int) throws -> Command.Output {
      try piswarm(["exec", node, "--connect-timeout", "\(connectTimeout)", "--retries", "0", "--"] + command, 60)
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
      self.qemu = nil
    }

    /// QEMU ended by its PID (the power cord).
    func powerOff() {
      guard let qemu else { return }
      Cleanup.kill([qemu])
      self.qemu = nil
    }

    /// QEMU, the tap and the loop device gone (the card's file goes with the folder).
    func stop() {
      powerOff()
      _ = try? Command("ip", ["-n", namespace, "link", "del", tap]).run()
      if let loop { Cleanup.detach(loop: loop) }
      // The SSH masters piswarm left for this node (ControlPersist), by their PIDs: a master
      // renames itself "ssh: FOLDER/ssh/root@IP [mux]" once it runs on its own.
      let masters = Processes.all().filter { pid in
        Processes.name(pid) == "ssh"
          && Processes.commandLine(pid).contains {
            $0.contains("\(folder)/ssh/") && ($0.hasSuffix("@\(ip)") || $0.contains("@\(ip) "))
          }
      }
      Cleanup.kill(masters)
    }
  }

  /// A card for a node of a netboot lab (the head's namespace, its bridge br0, lan: none).
  final class CardBoot {
    let lab: NetbootLab
    let card: CardVM

    init(node: String, ip: String, mac: String) throws {
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
      let lab = lab
      card = try CardVM(
        node: node, ip: ip, mac: mac, folder: lab.dir.path, namespace: lab.head, bridge: "br0",
        piswarm: { arguments, timeout in
          try Command(
            "nsenter", ["--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary] + arguments,
            environment: [
              "PISWARM_STATE_DIR": lab.state, "PISWARM_FILE": lab.clusterFile, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            ],
            timeout: timeout
          ).run()
        })
    }

    func stop() {
      card.stop()
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
  }

  /// The boot partition's offset on the real-OS image's cards.
  static let bootOffset = 8192 * 512

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
    let boot = try CardBoot(node: "node07", ip: "\(NetbootLab.subnet).17", mac: "52:54:00:5a:00:07")
    defer { boot.stop() }
    let card = boot.card
    let started = Date()
    let burned = try card.burn(image: RealOS.cache + "/realos.img")
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
    let boot = try CardBoot(node: "node08", ip: "\(NetbootLab.subnet).18", mac: "52:54:00:5a:00:08")
    defer { boot.stop() }
    let card = boot.card
    let burned = try card.burn(image: RealOS.cache + "/realos.img", ["--first-boot", "firstrun"])
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
