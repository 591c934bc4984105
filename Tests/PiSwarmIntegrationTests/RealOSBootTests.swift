import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A real operating system, diskless, from piswarm's roots: the Raspberry-Pi-OS-shaped Debian 12
/// arm64 image of scripts/realos-image.sh (systemd, NetworkManager, cloud-init, dphys-swapfile,
/// docker.io; Pi OS's cmdline.txt, fstab, firstboot and ssh-off) is imported with `piswarm image
/// import`, made a node root by `piswarm netboot apply`, and one QEMU VM boots it: its boot files
/// come over TFTP from piswarm's dnsmasq (read by pi-bootrom, as a Pi's ROM would), its address
/// from piswarm's DHCP, its root from piswarm's NFS export. The VM is a lab VM switched by
/// `piswarm power` (the lab driver, QEMU through QMP). `piswarm up` then gives it Docker on a
/// loop-mounted ext4 file on the NFS root; `piswarm power cycle` cuts and restores its power and
/// it comes back with the same identity, dockerd up at boot from that storage and the same swarm
/// node. Each boot phase is timed from the console and printed.
///
/// Slow (a real systemd under TCG, and a cold image build of several minutes): it runs with
/// `make e2e` (PISWARM_E2E=1), not in `make test`. See docs/netboot-roots.md.
@Suite(.serialized, .enabled(if: RealOS.shouldRun)) struct RealOSBootTests {
  static let mac = "52:54:00:5e:0a:31"
  static let ip = "\(NetbootLab.subnet).31"

  @Test func aRealOSBootsDisklessFromPiswarmsRootWithItsIdentityAndDockerOnTheLoopFile() throws {
    guard EndToEnd.require(RealOS.missing) else { return }
    let started = Date()
    let imageSeconds = try RealOS.buildImage()

    let boot = try DisklessBoot(mac: Self.mac, ip: Self.ip)
    defer { boot.stop() }
    let lab = boot.lab
    let labName = "ro" + lab.id.prefix(8)
    try boot.writeCluster(image: "realos", power: "{ driver: lab, lab: \(labName) }")
    let cmdline = try boot.importAndApply(image: RealOS.cache + "/realos.img", name: "realos")

    // The image's SD-card words stay on the card: piswarm's line has none of them.
    let image = lab.state + "/images/realos/boot"
    let imageLine = try String(contentsOfFile: image + "/cmdline.txt", encoding: .utf8)
    #expect(imageLine.contains("init=/usr/lib/raspberrypi-sys-mods/firstboot") && imageLine.contains(" resize"))
    let sdWords = cmdline.split(whereSeparator: \.isWhitespace).filter { NetbootOS.isSDOnly(String($0)) }
    #expect(sdWords.isEmpty, "\(cmdline)")
    // The rules landed in the root, decided by what it holds.
    for path in [NetbootOS.networkManagerConf, NetbootOS.cloudInitDisabled, NetbootOS.journaldConf] {
      #expect(lab.dir.read("nfs/node01" + path) != nil, "\(path) missing in the root")
    }
    let machineID = lab.dir.read("nfs/node01/etc/machine-id") ?? ""
    let hostKey = lab.dir.read("nfs/node01/etc/ssh/ssh_host_ed25519_key.pub") ?? ""
    #expect(NodeIdentity.isMachineID(machineID))

    try boot.startHead()

    // A Pi's ROM asks for its files over TFTP; pi-bootrom does so with the node's MAC, from a
    // namespace of its own on the same bridge, and checks it gets the image's bytes.
    let board = try lab.addBoard(1, mac: Self.mac)
    let dhcpStarted = Date()
    let (first, firstStatus) = try lab.boot(board, ["--model", "pi4", "--collect", "0.3", "config.txt", "cmdline.txt"])
    let dhcpSeconds = Date().timeIntervalSince(dhcpStarted)
    #expect(firstStatus == 0 && first.address == Self.ip, "\(first)")
    #expect(first.file("cmdline.txt")?.content == cmdline, "\(first.files)")
    let tftpStarted = Date()
    let (files, filesStatus) = try lab.boot(board, ["--model", "pi4", "--collect", "0.3", "kernel8.img", "initramfs8"])
    let tftpSeconds = Date().timeIntervalSince(tftpStarted) - dhcpSeconds
    #expect(filesStatus == 0, "\(files)")
    for name in ["kernel8.img", "initramfs8"] {
      let local = try Command("sha256sum", [boot.tftpFolder + "/" + name]).check().stdoutText.prefix(64)
      #expect(files.file(name)?.sha256 == String(local), "\(name) over TFTP is not the image's")
    }
    let kernelBytes = files.files.compactMap(\.bytes).reduce(0, +)
    Cleanup.deleteNamespace(board)

    // First boot: to multi-user.target and SSH with the pinned key.
    // The node is a lab VM with the files it got over TFTP (QEMU has no Pi boot ROM), switched
    // by `piswarm power VERB` (on, cycle); the console timed from the switch; until SSH answers
    // with the pinned key. Returns the clock and the seconds to SSH.
    try boot.addLabVM(
      lab: labName, kernel: boot.tftpFolder + "/kernel8.img", initrd: boot.tftpFolder + "/initramfs8", memoryMiB: 1024)
    #expect(try boot.powerState() == "off")
    func bootVM(_ verb: String) throws -> (ConsoleClock, Double) {
      try? FileManager.default.removeItem(atPath: boot.console)
      let clock = ConsoleClock(file: boot.console, markers: RealOS.markers.map(\.marker))
      let switched = try boot.power(verb, ["--no-wait"])
      try #require(switched.status == 0, "power \(verb): \(switched.stderrText)")
      _ = try boot.waitForSSH(["true"], timeout: 600)
      return (clock, Date().timeIntervalSince(clock.started))
    }
    // Seconds from QEMU's start until `unit` is active on the node (nil: not within 300 s).
    func waitForActive(_ unit: String, since clock: ConsoleClock) throws -> Double? {
      let deadline = Date().addingTimeInterval(300)
      while Date() < deadline {
        // piswarm exec frames the node's output with a header line: look for the line itself.
        let lines = try boot.exec(["systemctl", "is-active", unit], timeout: 60).stdoutText.split(separator: "\n")
        if lines.contains("active") { return Date().timeIntervalSince(clock.started) }
        usleep(500_000)
      }
      return nil
    }
    var (clock, firstSSH) = try bootVM("on")
    let multiUser = try waitForActive("multi-user.target", since: clock)
    clock.stop()
    #expect(multiUser != nil, "multi-user.target not reached within 300 s of SSH")
    let firstBoot = RealOS.phases(clock, ssh: firstSSH, docker: nil, multiUser: multiUser)

    let facts = try boot.exec(["sh", "-c", RealOS.factsScript], timeout: 120).stdoutText
    print("real OS, first boot facts:\n\(facts)")
    #expect(facts.contains("target=active"), "multi-user.target not reached: \(facts)")
    #expect(facts.contains("package=network-manager install ok installed"), "\(facts)")
    #expect(facts.contains("package=cloud-init install ok installed"), "\(facts)")
    #expect(facts.contains("cloud-init=status: disabled"), "\(facts)")
    #expect(facts.contains("nm=eth0:unmanaged"), "NetworkManager must leave eth0 alone: \(facts)")
    #expect(facts.contains("swap=\n"), "no swap on an NFS root: \(facts)")
    #expect(facts.contains("dphys-swapfile=masked"), "\(facts)")
    #expect(facts.contains("firstboot=no"), "Pi OS's firstboot ran: \(facts)")
    #expect(facts.contains("journal=volatile"), "\(facts)")
    #expect(facts.contains("machine-id=\(machineID.trimmingCharacters(in: .whitespacesAndNewlines))"), "\(facts)")
    #expect(facts.contains("root=nfs"), "\(facts)")
    // Before 'up' made its storage, dockerd waits for it instead of running on the NFS root.
    #expect(!facts.contains("dockerd=active"), "\(facts)")
    #expect(lab.dir.read("nfs/node01/etc/ssh/ssh_host_ed25519_key.pub") == hostKey, "the host key changed at boot")
    #expect(lab.dir.read("nfs/node01/etc/machine-id") == machineID, "the machine-id changed at boot")

    // piswarm up: Docker's storage on a loop-mounted ext4 file on the NFS root (dockerd starts
    // on it); the swarm on the next run, once the manager's dockerd answers.
    for run in ["storage", "swarm"] {
      let up = try Command(
        "nsenter", ["--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary, "up"], environment: boot.environment, timeout: 900
      ).run()
      #expect(up.status == 0, "piswarm up (\(run)): \(up.stderrText.suffix(3000))")
    }

    // A power cycle through piswarm (a new QEMU: the power cut, then on again), then the same
    // node: dockerd from the loop file at boot, the same swarm node.
    let before = try boot.labVMEntry().pid
    let secondSSH: Double
    (clock, secondSSH) = try bootVM("cycle")
    #expect(boot.qemu != before, "the cycle started a new QEMU")
    let dockerSeconds = try waitForActive("docker", since: clock)
    let secondMultiUser = try waitForActive("multi-user.target", since: clock)
    clock.stop()
    #expect(dockerSeconds != nil, "dockerd did not start within 300 s of SSH")
    let secondBoot = RealOS.phases(clock, ssh: secondSSH, docker: dockerSeconds, multiUser: secondMultiUser)

    let docker = try boot.exec(["sh", "-c", RealOS.dockerScript], timeout: 120).stdoutText
    print("real OS, Docker after the reboot:\n\(docker)")
    #expect(docker.contains("driver=overlay2 extfs"), "\(docker)")
    #expect(docker.contains("store=/dev/loop"), "\(docker)")
    #expect(docker.contains("store-fs=ext4"), "\(docker)")
    #expect(docker.contains("back-file=/var/lib/piswarm-node/docker.ext4"), "\(docker)")
    #expect(docker.contains("swarm=active"), "\(docker)")
    #expect(docker.contains("nodes=1\n"), "one swarm node after the cycle, not a duplicate: \(docker)")
    // piswarm status shows the same boot, phase by phase, to swarm-ready.
    let status = try boot.piswarm(["status", "--json"], timeout: 120)
    let rows = try JSONDecoder().decode([RealOS.StatusRow].self, from: Data(status.stdoutText.utf8))
    #expect(rows.first { $0.node == boot.node }?.bootPhase == "swarm-ready", "\(status.stdoutText)")
    #expect(lab.dir.read("nfs/node01/etc/ssh/ssh_host_ed25519_key.pub") == hostKey, "the host key changed at the reboot")
    #expect(Files.exists(lab.dir.file("nfs/node01/var/lib/piswarm-node/docker.ext4")), "the loop file lives in the NFS root")

    print(
      RealOS.report(
        imageSeconds: imageSeconds, dhcp: dhcpSeconds, tftp: tftpSeconds, tftpBytes: kernelBytes, first: firstBoot,
        second: secondBoot, total: Date().timeIntervalSince(started)))
  }
}

/// What the real-OS test needs, and how it reads the VM's console.
enum RealOS {
  /// A row of `piswarm status --json`: the node's boot phase.
  struct StatusRow: Decodable {
    var node: String
    var bootPhase: String?
  }

  static let cache = ProcessInfo.processInfo.environment["PISWARM_REALOS"] ?? "/var/cache/piswarm/realos"
  static var repository: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").path
  }

  static var missing: [String] {
    EndToEnd.missing + (FileManager.default.isExecutableFile(atPath: NetbootLab.bootromBinary) ? [] : ["pi-bootrom"])
  }

  /// scripts/realos-image.sh: the image in `cache` (minutes cold, seconds when cached).
  /// Only when asked (make e2e): it takes minutes.
  static var shouldRun: Bool { ProcessInfo.processInfo.environment["PISWARM_E2E"] == "1" }

  /// scripts/realos-image.sh into the cache (minutes cold, a check when warm); its seconds.
  static func buildImage() throws -> Double {
    let started = Date()
    let built = try Command("bash", [repository + "/scripts/realos-image.sh", cache, EndToEnd.fixture], timeout: 5400).run()
    try #require(built.status == 0, "realos-image.sh failed: \(built.stderrText.suffix(3000))")
    return Date().timeIntervalSince(started)
  }

  /// The image's kernel and initramfs as `piswarm image import` keeps them in `state`.
  static func importedBoot(_ state: String) -> (kernel: String, initrd: String) {
    (state + "/images/realos/boot/kernel8.img", state + "/images/realos/boot/initramfs8")
  }

  /// Console lines that mark a boot phase, and the phase they end.
  static let markers: [(marker: String, phase: String)] = [
    ("Booting Linux on physical CPU", "kernel started"),
    ("piswarm-initramfs: DHCP on", "initramfs"),
    ("piswarm-initramfs: eth0 is", "DHCP (initramfs)"),
    ("piswarm-initramfs: mounted", "NFS root mounted"),
    ("Welcome to", "systemd started"),
    ("Multi-User System", "multi-user.target"),
  ]

  /// The phases of one boot; `multiUser` (from systemctl, polled after SSH) stands in when
  /// systemd's status line for it did not reach the console (it shows status only after a
  /// failed or slow unit).
  static func phases(_ clock: ConsoleClock, ssh: Double, docker: Double?, multiUser: Double?) -> [(String, Double?)] {
    markers.map { ($0.phase, clock.time($0.marker) ?? ($0.phase == "multi-user.target" ? multiUser : nil)) }
      + [("SSH (pinned key)", ssh), ("dockerd active", docker)]
  }

  /// What the VM says about itself, `key=value` lines.
  static let factsScript = """
    echo "target=$(systemctl is-active multi-user.target)"
    dpkg-query -W -f='package=${Package} ${Status}\\n' network-manager cloud-init
    echo "cloud-init=$(cloud-init status 2>&1 | head -n1)"
    nmcli -t -f DEVICE,STATE device 2>&1 | sed -n 's/^\\(eth0:.*\\)/nm=\\1/p'
    echo "swap=$(swapon --noheadings --show)"
    echo "dphys-swapfile=$(systemctl is-enabled dphys-swapfile 2>&1)"
    if [ -e /var/lib/raspberrypi-sys-mods-firstboot-ran ]; then echo firstboot=yes; else echo firstboot=no; fi
    if [ -d /run/log/journal ] && [ -z "$(ls -A /var/log/journal 2>/dev/null)" ]; then echo journal=volatile; else echo journal=persistent; fi
    echo "machine-id=$(cat /etc/machine-id)"
    echo "root=$(findmnt -n -o FSTYPE /)"
    echo "dockerd=$(systemctl is-active docker)"
    echo "failed=$(systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\\n' ' ')"
    echo "running=$(systemctl is-system-running)"
    """

  static let dockerScript = """
    echo "driver=$(docker info --format '{{.Driver}} {{range .DriverStatus}}{{if eq (index . 0) "Backing Filesystem"}}{{index . 1}}{{end}}{{end}}')"
    echo "store=$(findmnt -n -o SOURCE /var/lib/piswarm-node/storage)"
    echo "store-fs=$(findmnt -n -o FSTYPE /var/lib/piswarm-node/storage)"
    echo "back-file=$(losetup -n -O BACK-FILE "$(findmnt -n -o SOURCE /var/lib/piswarm-node/storage)")"
    echo "data-root=$(findmnt -n -o SOURCE,FSTYPE /var/lib/docker)"
    echo "swarm=$(docker info --format '{{.Swarm.LocalNodeState}}')"
    echo "nodes=$(docker node ls -q | wc -l)"
    """

  static func report(
    imageSeconds: Double, dhcp: Double, tftp: Double, tftpBytes: Int, first: [(String, Double?)], second: [(String, Double?)],
    total: Double
  ) -> String {
    func seconds(_ value: Double?) -> String { value.map { String(format: "%6.1f s", $0) } ?? "     —  " }
    var lines = [
      "real OS boot phases (seconds since QEMU started; TCG, -smp 1, tb-size=256):",
      "  image (realos-image.sh, cached when warm)  \(seconds(imageSeconds))",
      "  DHCP (pi-bootrom, piswarm's dnsmasq)       \(seconds(dhcp))",
      "  TFTP kernel8.img + initramfs8 (\(tftpBytes / 1_048_576) MiB)    \(seconds(tftp))",
      "  phase                      first boot   after up + power cycle",
    ]
    for (index, phase) in first.enumerated() {
      lines.append(
        "  \(phase.0.padding(toLength: 26, withPad: " ", startingAt: 0)) \(seconds(phase.1))     \(seconds(second[index].1))")
    }
    lines.append("  whole test \(seconds(total))")
    return lines.joined(separator: "\n")
  }
}
