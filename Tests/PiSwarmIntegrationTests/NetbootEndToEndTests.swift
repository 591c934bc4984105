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
    guard Self.missing.isEmpty else {
      Issue.record("end-to-end prerequisites missing: \(Self.missing.joined(separator: ", ")); run 'make deps' as root")
      return
    }
    // The VM's kernel, initramfs and root tree (built once, then cached).
    let built = try Command(
      "bash", [Self.repository.appendingPathComponent("scripts/qemu-fixture.sh").path, Self.fixture], timeout: 900
    ).run()
    try #require(built.status == 0, "qemu-fixture.sh failed: \(built.stderrText.suffix(2000))")

    let lab = try NetbootLab()
    var ganesha: pid_t?
    defer {
      if let ganesha { Self.stopNamespaceInit(ganesha) }
      if let qemu = lab.pids.last {
        Processes.signal(qemu, SIGTERM)
        _ = Processes.waitForExit([qemu], timeout: 5)
      }
      // The node's overlay root and the image's read-only lower layer (loop devices clear
      // themselves on unmount), deepest first, before cleanUp removes the folder.
      Cleanup.unmount(below: lab.dir.path)
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
      #expect(Mounts.points().filter { $0.hasPrefix(lab.dir.path + "/") }.isEmpty)
    }

    // An image of the Raspberry Pi OS shape whose root is the fixture's arm64 tree.
    let image = lab.dir.file("e2e.img")
    try TestImage.make(at: image, scratch: lab.dir.file("image-scratch"), rootTree: Self.fixture + "/rootfs", rootMiB: 64)
    try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm-e2e", "-f", lab.dir.file("id_ed25519")]).check()
    lab.dir.write(
      "cluster.yml",
      """
      name: e2e
      head:
        interface: br0
        address: \(NetbootLab.subnet).1/24
        lan: dhcp
        tftp_root: \(lab.tftpRoot)
        nfs_root: \(lab.dir.file("nfs"))
        dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))
      ssh:
        key: \(lab.dir.file("id_ed25519"))
      defaults:
        image: e2e
        docker_storage: loopfile:2G
      nodes:
        - name: node01
          mac: "\(Self.mac)"
          ip: \(Self.ip)
          model: pi4

      """)
    let imported = try lab.piswarm(["image", "import", image, "--name", "e2e"])
    try #require(imported.status == 0, "\(imported.stderrText)")
    // The root (with its identity and pinned host key), the TFTP folder with cmdline.txt, the
    // dnsmasq configuration and ganesha.conf: all from one apply.
    let applied = try lab.piswarm(["netboot", "apply", "--files-only", "--roots", "--dnsmasq-option", "no-ping"])
    try #require(applied.status == 0, "\(applied.stderrText)")
    let folder = lab.tftpRoot + "/" + Self.mac.replacingOccurrences(of: ":", with: "-")
    let cmdline = try String(contentsOfFile: folder + "/cmdline.txt", encoding: .utf8)
    #expect(cmdline.contains("nfsroot=\(NetbootLab.subnet).1:\(lab.dir.file("nfs"))/node01,nfsvers=3,tcp"), "\(cmdline)")
    // Docker's configuration is in the root before the node ever boots.
    #expect(lab.dir.read("nfs/node01/etc/docker/daemon.json")?.contains("\"piswarm.node=node01\"") == true)
    let pinned = try String(contentsOfFile: lab.state + "/known_hosts", encoding: .utf8)
    #expect(pinned.contains("\(Self.ip) ssh-ed25519 "), "root make pins the node's new host key")

    // The VM's cable: a tap on the head namespace's bridge.
    try lab.ip(["-n", lab.head, "tuntap", "add", "dev", "tap0", "mode", "tap"])
    try lab.ip(["-n", lab.head, "link", "set", "tap0", "master", "br0", "up"])

    // nfs-ganesha with piswarm's configuration, isolated (its own mount and PID namespaces with
    // a private /run and rpcbind), and dnsmasq with piswarm's.
    ganesha = try Self.startGanesha(lab)
    try lab.startHeadDnsmasq()

    let console = lab.dir.file("console.log")
    let qemu = try Processes.spawnDetached(
      [
        "nsenter", "--net=/run/netns/\(lab.head)", "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "1",
        "-m", "512", "-display", "none", "-monitor", "none", "-serial", "file:\(console)", "-no-reboot",
        "-kernel", Self.fixture + "/vmlinuz", "-initrd", Self.fixture + "/initrd.img",
        // The Pi's line as rendered, and QEMU's serial console last (the last console= wins).
        "-append", cmdline.trimmingCharacters(in: .whitespacesAndNewlines) + " console=ttyAMA0",
        "-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no",
        "-device", "virtio-net-pci,netdev=net0,mac=\(Self.mac),romfile=",
      ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: lab.dir.file("qemu.out"))
    lab.pids.append(qemu)

    // piswarm's own SSH, from the head's side of the network, with the key it pinned
    // (StrictHostKeyChecking=yes: no --trust-new).
    let started = Date()
    var reached: Command.Output?
    while Date().timeIntervalSince(started) < 120 {
      let output = try Command(
        "nsenter",
        [
          "--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary, "exec", "node01", "--connect-timeout", "2", "--retries", "0",
          "--",
        ]
          + ["sh", "-c", "hostname; cat /proc/cmdline; awk '$2 == \"/\" {print $3}' /proc/mounts"],
        environment: ["PISWARM_STATE_DIR": lab.state, "PISWARM_FILE": lab.clusterFile, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
        timeout: 30
      ).run()
      if output.status == 0 {
        reached = output
        break
      }
      let log = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
      try #require(!log.contains("piswarm-initramfs: FAILED"), "the VM could not mount its root:\n\(log.suffix(3000))")
      try #require(Processes.isAlive(qemu), "QEMU exited:\n\(log.suffix(3000))")
      usleep(500_000)
    }
    let seconds = Date().timeIntervalSince(started)
    let output = try #require(
      reached, "no SSH after 120 s:\n\(((try? String(contentsOfFile: console, encoding: .utf8)) ?? "").suffix(3000))")
    let text = output.stdoutText
    #expect(text.contains("node01\n"), "\(text)")
    #expect(text.contains("nfsroot=\(NetbootLab.subnet).1:\(lab.dir.file("nfs"))/node01,nfsvers=3,tcp"), "\(text)")
    #expect(text.contains("cgroup_enable=memory cgroup_memory=1"))
    #expect(text.contains("\nnfs\n") || text.hasSuffix("nfs\n"), "the root is NFS: \(text)")
    print("e2e: boot to SSH through piswarm in \(String(format: "%.1f", seconds)) s")

    // A write on the VM lands in the node's root on the head, and only there.
    #expect(
      try Command(
        "nsenter",
        ["--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary, "exec", "node01", "--", "sh", "-c", "echo hello > /root/e2e"],
        environment: ["PISWARM_STATE_DIR": lab.state, "PISWARM_FILE": lab.clusterFile, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
        timeout: 30
      ).run().status == 0)
    #expect(lab.dir.read("nfs/node01/root/e2e") == "hello\n")

    // The DHCP lease reached piswarm through the dnsmasq hook: the node was seen.
    let status = try lab.piswarm(["netboot", "status", "--json"])
    #expect(status.stdoutText.contains("node01"), "\(status.stdoutText)")
  }

  /// nfs-ganesha and a private rpcbind in the head's network namespace, in mount and PID
  /// namespaces of their own (a tmpfs over /run and /var/lib/nfs), so that nothing is shared
  /// with the host's or another test's rpcbind. Returns unshare's PID; waits for port 2049.
  static func startGanesha(_ lab: NetbootLab) throws -> pid_t {
    let script = lab.dir.file("ganesha-ns.sh")
    lab.dir.write(
      "ganesha-ns.sh",
      """
      #!/bin/bash
      # PID 1 of ganesha's PID namespace: its end takes rpcbind and ganesha along.
      set -euo pipefail
      awk '$5 ~ "^/run/netns/" { print $5 }' /proc/self/mountinfo | while read -r m; do umount -l "$m" || true; done
      \(Cleanup.dropForeignMounts(keeping: "\"$4\""))
      mount -t tmpfs -o mode=0755 piswarm-run /run
      mount -t tmpfs -o mode=0755 piswarm-nfs /var/lib/nfs
      mkdir -p /run/ganesha /run/rpcbind /var/lib/nfs/ganesha "$2"
      chown _rpc /run/rpcbind 2>/dev/null || true
      rpcbind -f -w &
      for _ in $(seq 1 50); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
      ganesha.nfsd -F -f "$1" -L "$3" -p /run/ganesha/ganesha.pid &
      ganesha=$!
      trap 'kill -TERM "$ganesha" 2>/dev/null; wait "$ganesha"; kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM
      wait

      """)
    chmod(script, 0o755)
    let pid = try Processes.spawnDetached(
      [
        "nsenter", "--net=/run/netns/\(lab.head)", "unshare", "--mount", "--propagation", "private", "--pid", "--fork",
        "--kill-child", "--mount-proc", script, lab.state + "/netboot/ganesha.conf", lab.state + "/netboot/ganesha-recovery",
        lab.dir.file("ganesha.log"), lab.dir.path,
      ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: lab.dir.file("ganesha-ns.out"))
    let listening = lab.waitUntil(timeout: 30) {
      guard Processes.isAlive(pid) else { return true }
      // ganesha listens on an IPv6 socket (the head's address v4-mapped): both tables.
      let sockets = ["tcp", "tcp6"].map { (try? String(contentsOfFile: "/proc/\(pid)/net/\($0)", encoding: .utf8)) ?? "" }
      return sockets.joined().contains(":0801 ")  // 2049
    }
    guard Processes.isAlive(pid), listening else {
      let text = [lab.dir.file("ganesha-ns.out"), lab.dir.file("ganesha.log")]
        .map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n")
      stopNamespaceInit(pid)
      throw TestFailure("ganesha \(listening ? "exited" : "did not listen on 2049 within 30 s"): \(text.suffix(3000))")
    }
    return pid
  }

  /// unshare ignores SIGTERM while it waits: SIGTERM its child (the namespace's PID 1, which
  /// stops ganesha and rpcbind), then make sure of unshare, by PID.
  static func stopNamespaceInit(_ unshare: pid_t) {
    let children = (try? String(contentsOfFile: "/proc/\(unshare)/task/\(unshare)/children", encoding: .utf8)) ?? ""
    for child in children.split(separator: " ").compactMap({ pid_t($0) }) { Processes.signal(child, SIGTERM) }
    if !Processes.waitForExit([unshare], timeout: 5).isEmpty { Processes.signal(unshare, SIGKILL) }
    _ = Processes.waitForExit([unshare], timeout: 5)
    Processes.reap(unshare)
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
}
