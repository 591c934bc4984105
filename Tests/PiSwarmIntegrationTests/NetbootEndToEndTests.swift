import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A diskless aarch64 VM (QEMU `-M virt` under TCG) boots with the kernel command line of its
/// rendered `cmdline.txt`, gets its address from piswarm's dnsmasq, mounts its root from
/// piswarm's NFS export (nfs-ganesha with piswarm's ganesha.conf) of the root piswarm made from
/// an imported image, and piswarm reaches it over SSH with the host key it pinned.
///
/// The VM's kernel, initramfs and arm64 root tree come from scripts/qemu-fixture.sh (cached in
/// /var/cache/piswarm/qemu-fixture); see docs/netboot-e2e.md.
@Suite(.serialized, .enabled(if: EndToEnd.shouldRun)) struct NetbootEndToEndTests {
  static var fixture: String { EndToEnd.fixture }
  static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..") }
  static var missing: [String] { EndToEnd.missing }

  static let mac = "52:54:00:5e:0a:15"
  static let ip = "\(NetbootLab.subnet).21"

  @Test func aDisklessVMBootsFromPiswarmsExportAndAnswersSSHWithItsPinnedKey() throws {
    guard EndToEnd.require(Self.missing) else { return }
    // The VM's kernel, initramfs and root tree (built once, then cached).
    let built = try Command(
      "bash", [Self.repository.appendingPathComponent("scripts/qemu-fixture.sh").path, Self.fixture], timeout: 900
    ).run()
    try #require(built.status == 0, "qemu-fixture.sh failed: \(built.stderrText.suffix(2000))")

    let boot = try DisklessBoot(mac: Self.mac, ip: Self.ip)
    defer { boot.stop() }
    let lab = boot.lab

    // An image of the Raspberry Pi OS shape whose root is the fixture's arm64 tree.
    let image = lab.dir.file("e2e.img")
    try TestImage.make(at: image, scratch: lab.dir.file("image-scratch"), rootTree: Self.fixture + "/rootfs", rootMiB: 64)
    try boot.writeCluster(image: "e2e")
    let cmdline = try boot.importAndApply(image: image, name: "e2e")
    #expect(cmdline.contains("nfsroot=\(NetbootLab.subnet).1:\(lab.dir.file("nfs"))/node01,nfsvers=3,tcp"), "\(cmdline)")
    // Docker's configuration is in the root before the node ever boots.
    #expect(lab.dir.read("nfs/node01/etc/docker/daemon.json")?.contains("\"piswarm.node=node01\"") == true)
    let pinned = try String(contentsOfFile: lab.state + "/known_hosts", encoding: .utf8)
    #expect(pinned.contains("\(Self.ip) ssh-ed25519 "), "root make pins the node's new host key")

    try boot.startHead()
    try boot.startVM(kernel: Self.fixture + "/vmlinuz", initrd: Self.fixture + "/initrd.img", cmdline: cmdline, memoryMiB: 512)

    // piswarm's own SSH, from the head's side of the network, with the key it pinned.
    let (output, seconds) = try boot.waitForSSH(
      ["sh", "-c", "hostname; cat /proc/cmdline; awk '$2 == \"/\" {print $3}' /proc/mounts"], timeout: 120)
    let text = output.stdoutText
    #expect(text.contains("node01\n"), "\(text)")
    #expect(text.contains("nfsroot=\(NetbootLab.subnet).1:\(lab.dir.file("nfs"))/node01,nfsvers=3,tcp"), "\(text)")
    #expect(text.contains("cgroup_enable=memory cgroup_memory=1"))
    #expect(text.contains("\nnfs\n") || text.hasSuffix("nfs\n"), "the root is NFS: \(text)")
    print("e2e: boot to SSH through piswarm in \(String(format: "%.1f", seconds)) s")

    // A write on the VM lands in the node's root on the head, and only there.
    #expect(try boot.exec(["sh", "-c", "echo hello > /root/e2e"], timeout: 30).status == 0)
    #expect(lab.dir.read("nfs/node01/root/e2e") == "hello\n")

    // The DHCP lease reached piswarm through the dnsmasq hook: the node was seen.
    let status = try lab.piswarm(["netboot", "status", "--json"])
    #expect(status.stdoutText.contains("node01"), "\(status.stdoutText)")
  }
}

/// What the end-to-end test needs; under CI=true a missing piece fails it instead of skipping.
enum EndToEnd {
  static let fixture = ProcessInfo.processInfo.environment["PISWARM_QEMU_FIXTURE"] ?? "/var/cache/piswarm/qemu-fixture"

  static var missing: [String] {
    NetbootLab.missing
      + ["qemu-system-aarch64", "ganesha.nfsd", "rpcbind", "unshare", "mkfs.vfat", "mcopy"].filter { Command.resolve($0) == nil }
  }

  static var shouldRun: Bool { missing.isEmpty || Prerequisites.isCI }

  /// Records what is missing as the test's failure; true when nothing is.
  static func require(_ missing: [String]) -> Bool {
    guard missing.isEmpty else {
      Issue.record("end-to-end prerequisites missing: \(missing.joined(separator: ", ")); run 'make deps' as root")
      return false
    }
    return true
  }
}
