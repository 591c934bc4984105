import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The `lab` power driver switches a QEMU VM the lab owns: `piswarm lab vm add` registers the
/// netboot node's VM (its kernel, initramfs and the node's rendered cmdline.txt), and `piswarm
/// power on|status|cycle|off` start QEMU by PID, read it, restart it and end it through QMP.
/// The VM netboots the fixture's busybox root from piswarm's dnsmasq and NFS export (seconds
/// under TCG), so this runs wherever the end-to-end prerequisites are.
@Suite(.serialized, .enabled(if: EndToEnd.shouldRun)) struct LabVMPowerTests {
  static let mac = "52:54:00:5e:0a:41"
  static let ip = "\(NetbootLab.subnet).41"

  @Test func theLabDriverPowersAQEMUVMOnCyclesItAndCutsItThroughQMP() throws {
    guard EndToEnd.require(EndToEnd.missing) else { return }
    let built = try Command(
      "bash", [NetbootEndToEndTests.repository.appendingPathComponent("scripts/qemu-fixture.sh").path, EndToEnd.fixture],
      timeout: 900
    ).run()
    try #require(built.status == 0, "qemu-fixture.sh failed: \(built.stderrText.suffix(2000))")

    let boot = try DisklessBoot(mac: Self.mac, ip: Self.ip)
    defer { boot.stop() }
    let labName = "vp" + boot.lab.id.prefix(8)
    let image = boot.lab.dir.file("e2e.img")
    try TestImage.make(
      at: image, scratch: boot.lab.dir.file("image-scratch"), rootTree: EndToEnd.fixture + "/rootfs", rootMiB: 64)
    try boot.writeCluster(image: "e2e", power: "{ driver: lab, lab: \(labName) }")
    _ = try boot.importAndApply(image: image, name: "e2e")
    try boot.startHead()

    // Bad input changes nothing: a multicast MAC is refused before anything is written.
    let refused = try boot.piswarm([
      "lab", "vm", "add", boot.node, "--name", labName, "--mac", "01:00:5e:00:00:01", "--kernel", EndToEnd.fixture + "/vmlinuz",
      "--initrd", EndToEnd.fixture + "/initrd.img", "--cmdline-file", boot.tftpFolder + "/cmdline.txt",
    ])
    #expect(refused.status != 0 && refused.stderrText.contains("01:00:5e:00:00:01"), "\(refused.stderrText)")
    #expect(!Files.exists(boot.lab.state + "/labs/\(labName)/vms/\(boot.node)"))

    try boot.addLabVM(
      lab: labName, kernel: EndToEnd.fixture + "/vmlinuz", initrd: EndToEnd.fixture + "/initrd.img", memoryMiB: 512)
    #expect(try boot.labVMEntry().running == false, "a VM is added powered off")
    #expect(try boot.powerState() == "off")

    // On: QEMU by PID, QMP answers, the VM netboots; `power on` returns once SSH answers with
    // the pinned key.
    let started = Date()
    let on = try boot.power("on")
    try #require(on.status == 0, "\(on.stderrText)")
    let first = try boot.labVMEntry()
    #expect(first.running && first.state == "running", "\(first)")
    let (hello, _) = try boot.waitForSSH(["sh", "-c", "hostname; echo x > /root/cycled"], timeout: 120)
    #expect(hello.stdoutText.contains("\(boot.node)\n"))
    print(String(format: "lab VM: power on to SSH in %.1f s", Date().timeIntervalSince(started)))
    #expect(try boot.powerState() == "on")

    // Cycle: a new QEMU process, the same node (same root, same pinned host key: strict SSH).
    let cycled = try boot.power("cycle")
    try #require(cycled.status == 0, "\(cycled.stderrText)")
    let second = try boot.labVMEntry()
    #expect(second.running && second.pid != first.pid, "a cycle is a new QEMU: \(first) → \(second)")
    if let old = first.pid { #expect(!Processes.isAlive(old)) }
    let (back, _) = try boot.waitForSSH(["sh", "-c", "hostname; cat /root/cycled"], timeout: 120)
    #expect(back.stdoutText.contains("\(boot.node)\nx\n"), "\(back.stdoutText)")

    // Reset (QMP system_reset): the guest reboots in the same QEMU process.
    func bootID() throws -> String {
      let (output, _) = try boot.waitForSSH(["cat", "/proc/sys/kernel/random/boot_id"], timeout: 120)
      return output.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    }
    let bootBefore = try bootID()
    let reset = try boot.piswarm(["lab", "vm", "reset", boot.node, "--name", labName])
    #expect(reset.status == 0, "\(reset.stderrText)")
    let bootAfter = try bootID()
    #expect(!bootBefore.isEmpty && bootAfter != bootBefore, "the guest rebooted: \(bootBefore) → \(bootAfter)")
    #expect(try boot.labVMEntry().pid == second.pid, "a reset keeps the QEMU process")

    // Off (hard: the power cord): QMP quit, the process is gone.
    let off = try boot.power("off", ["--hard"])
    #expect(off.status == 0, "\(off.stderrText)")
    let last = try boot.labVMEntry()
    #expect(!last.running && last.pid == nil, "\(last)")
    if let pid = second.pid { #expect(!Processes.isAlive(pid), "QEMU \(pid) still runs after power off") }
    #expect(try boot.powerState() == "off")

    // up from cold, narrowed to power: plan shows the switch and the wait, up switches the VM on
    // and waits for its boot phases, and a second up changes nothing.
    let plan = try boot.piswarm(["plan", "--only", "power", "--json"], timeout: 120)
    print("plan --only power:\n\(plan.stdoutText)\n\(plan.stderrText)")
    #expect(plan.stdoutText.contains("power on \(boot.node)"), "\(plan.stdoutText)")
    #expect(plan.stdoutText.contains("wait boot \(boot.node)"), "\(plan.stdoutText)")
    let up = try boot.piswarm(["up", "--only", "power"], timeout: 300)
    print("up --only power:\n\(up.stdoutText)\n\(up.stderrText)")
    #expect(up.status == 0, "\(up.stderrText)")
    #expect(try boot.labVMEntry().running)
    boot.qemu = try boot.labVMEntry().pid
    let again = try boot.piswarm(["up", "--only", "power"], timeout: 300)
    print("second up --only power:\n\(again.stdoutText)\n\(again.stderrText)")
    #expect(again.status == 0 && again.stderrText.contains("no changes"), "\(again.stderrText)")
  }
}
