import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `piswarm upgrade --image` and `rollback` on real diskless nodes: a lab whose manager is a
/// namespace node (node01) and whose two workers are QEMU VMs (node02, node03) booting the real
/// Debian arm64 image of scripts/realos-image.sh from piswarm's roots (dnsmasq and nfs-ganesha
/// in the head's namespace, started by the test; ganesha restarted through the cluster file's
/// `head.nfs_reload` when a root is switched). A service of two busybox httpd replicas runs on
/// the workers (host network, port 8080, or 8081 for a second one on the same node).
///
/// Availability: a client loop on the head asks every worker's ports once a second; a round in
/// which none answers is a failure. The upgrade to a second image version (the same image with
/// /etc/piswarm-release added) moves the workers one at a time with no failed round; a third
/// version whose dockerd is masked stops at the canary (node03 untouched), and `rollback` brings
/// the canary back (strict SSH, Docker, swarm Ready). Slow: `make e2e` (PISWARM_E2E=1).
@Suite(.serialized, .enabled(if: RealOS.shouldRun)) struct UpgradeEndToEndTests {
  static let workers = [("node02", "52:54:00:5e:0a:52"), ("node03", "52:54:00:5e:0a:53")]

  typealias Outcome = UpgradeIntegrationTests.Outcome

  @Test func upgradeMovesTwoDisklessNodesOneAtATimeAndACanaryStopsABadImage() throws {
    guard EndToEnd.require(RealOS.missing) else { return }
    let started = Date()
    _ = try RealOS.buildImage()
    let busybox = try #require(
      (try? FileManager.default.contentsOfDirectory(atPath: Self.busyboxCache))?.first { $0.hasSuffix("_arm64.deb") },
      "no arm64 busybox-static package in \(Self.busyboxCache): apt-get download busybox-static:arm64 there")

    // The lab (its namespace node01 is the manager; its switch cables the VMs), made from the
    // head's namespace: its head interface and address live there, beside dnsmasq and ganesha.
    let boot = try DisklessBoot(mac: Self.workers[0].1, ip: "")
    var client: pid_t?
    defer {
      if let client { Self.stop(client) }
      boot.stop()
    }
    let lab = boot.lab
    let labName = "ue" + lab.id.prefix(8)
    let labUp = try boot.piswarm(["lab", "up", "--name", labName, "--nodes", "1", "--managers", "1"], timeout: 300)
    boot.labVM = labName
    try #require(labUp.status == 0, "lab up: \(labUp.stderrText)")
    let labFile = try String(contentsOfFile: lab.state + "/labs/\(labName)/cluster.yml", encoding: .utf8)
    let net = try #require(
      labFile.firstMatch(of: /address: (10\.231\.\d+)\.1\/24/).map { String($0.1) }, "no lab subnet in \(labFile)")
    let ip = { (node: String) in "\(net).\((Int(node.suffix(2)) ?? 0) + 10)" }
    let managerMAC = try #require(labFile.firstMatch(of: /mac: (\S+)/).map { String($0.1) }, "no node MAC in \(labFile)")

    // The images: the cached one, a new version (/etc/piswarm-release), a bad one (dockerd masked).
    _ = lab.dir.write("release", "piswarm-e2e 2\n")
    let newImage = try Self.derive(
      RealOS.cache + "/realos.img", to: lab.dir.file("realos-2.img"),
      debugfs: [
        "write \(lab.dir.file("release")) /etc/piswarm-release"
      ])
    let badImage = try Self.derive(
      RealOS.cache + "/realos.img", to: lab.dir.file("realos-bad.img"),
      debugfs: [
        "write \(lab.dir.file("release")) /etc/piswarm-release", "symlink /etc/systemd/system/docker.service /dev/null",
      ])
    for (file, name) in [(RealOS.cache + "/realos.img", "realos"), (newImage, "realos-2"), (badImage, "realos-bad")] {
      let imported = try boot.piswarm(["image", "import", file, "--name", name], timeout: 900)
      try #require(imported.status == 0, "image import \(name): \(imported.stderrText)")
      if file != RealOS.cache + "/realos.img" { unlink(file) }
    }

    // The cluster file: nfs_reload restarts the test's ganesha (a script written once it runs).
    try Files.makeDirectory(lab.dir.file("etc"), mode: 0o755)
    let reload = lab.dir.file("ganesha-restart.sh")
    let nodes = Self.workers.map { name, mac in "  - { name: \(name), mac: \"\(mac)\", ip: \(ip(name)), model: pi4 }" }
    lab.dir.write(
      "cluster.yml",
      """
      name: \(boot.clusterName)
      head:
        interface: psl-\(labName)
        address: \(net).1/24
        lan: dhcp
        tftp_root: \(lab.tftpRoot)
        nfs_root: \(lab.dir.file("nfs"))
        dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))
        nfs_reload: [\(reload)]
      ssh:
        user: root
        key: \(lab.state)/labs/\(labName)/id_ed25519
      defaults:
        image: realos
        docker_storage: loopfile:2G
        power: { driver: lab, lab: \(labName) }
      swarm:
        managers: [node01]
      nodes:
        - { name: node01, mac: "\(managerMAC)", ip: \(ip("node01")), model: other, boot: preinstalled, docker_storage: root }
      \(nodes.joined(separator: "\n"))

      """)
    let applied = try boot.piswarm(["netboot", "apply", "--files-only", "--roots", "--dnsmasq-option", "no-ping"], timeout: 600)
    try #require(applied.status == 0, "netboot apply: \(applied.stderrText)")
    boot.ganesha = try DisklessBoot.startGanesha(lab, followingMounts: true)
    #expect(try DisklessBoot.restartGaneshaScript(lab, unshare: try #require(boot.ganesha)) == reload)
    try lab.startHeadDnsmasq()
    for (name, mac) in Self.workers {
      let folder = lab.tftpRoot + "/" + mac.replacingOccurrences(of: ":", with: "-")
      let added = try boot.piswarm([
        "lab", "vm", "add", name, "--name", labName, "--mac", mac, "--kernel", folder + "/kernel8.img", "--initrd",
        folder + "/initramfs8", "--cmdline-file", folder + "/cmdline.txt", "--memory", "1024",
      ])
      try #require(added.status == 0, "lab vm add \(name): \(added.stderrText)")
    }

    // up: the VMs powered on and Docker on their loop files; the swarm on the next run, once
    // the workers' dockerd answers (a third when a run ends early).
    let upStarted = Date()
    var runs: [Int32] = []
    while runs.count < 3, runs.count < 2 || runs.last != 0 {
      let up = try boot.piswarm(["up", "--dnsmasq-option", "no-ping"], timeout: 1800)
      runs.append(up.status)
      if up.status != 0 { print("piswarm up: \(up.stderrText.suffix(3000))") }
    }
    try #require(runs.last == 0, "piswarm up: \(runs)")
    let swarm = try boot.piswarm(["exec", "node01", "--", "docker", "node", "ls", "--format", "{{.Hostname}} {{.Status}}"])
    for name in ["node01", "node02", "node03"] { try #require(swarm.stdoutText.contains("\(name) Ready"), "\(swarm.stdoutText)") }
    let upSeconds = Date().timeIntervalSince(upStarted)

    // The service: busybox httpd from the arm64 busybox-static package, imported on each worker.
    let rootfs = lab.dir.file("web")
    try Command("dpkg-deb", ["-x", Self.busyboxCache + "/" + busybox, rootfs]).check()
    try Files.makeDirectory(lab.dir.file("web/www"), mode: 0o755)
    _ = lab.dir.write("web/www/index.html", "up\n")
    try Command("tar", ["-C", rootfs, "-cf", lab.dir.file("web.tar"), "bin/busybox", "www"]).check()
    for (name, _) in Self.workers {
      let copied = try Command("cp", [lab.dir.file("web.tar"), lab.dir.file("nfs/\(name)/root/web.tar")]).run()
      try #require(copied.status == 0, "\(copied.stderrText)")
      let imported = try boot.piswarm(["exec", name, "--", "docker", "import", "/root/web.tar", "e2e/web:1"], timeout: 300)
      try #require(imported.status == 0, "docker import on \(name): \(imported.stderrText)")
    }
    let created = try boot.piswarm(
      [
        "exec", "node01", "--", "docker", "service", "create", "--detach", "--no-resolve-image", "--name", "web", "--replicas",
        "2", "--constraint", "node.role==worker", "--network", "host", "--stop-signal", "SIGKILL", "e2e/web:1",
        "/bin/busybox", "sh", "-c", "/bin/busybox httpd -f -p 8080 -h /www || /bin/busybox httpd -f -p 8081 -h /www",
      ], timeout: 120)
    try #require(created.status == 0, "service create: \(created.stderrText)")
    try #require(
      lab.waitUntil(timeout: 600) { try Self.answering(boot, Self.workers.map { ip($0.0) }) == 2 },
      "the service does not answer on both workers")

    // The client loop: once a second, each worker's ports until one answers; "ok" or "FAIL".
    let urls = Self.workers.flatMap { name, _ in ["8080", "8081"].map { "http://\(ip(name)):\($0)/" } }
    client = try Processes.spawnDetached(
      [
        "nsenter", "--net=/run/netns/\(lab.head)", "sh", "-c",
        "while :; do r=FAIL; for u in \(urls.joined(separator: " ")); do if curl -sf -m 2 -o /dev/null \"$u\"; then r=ok; break; fi; done; echo \"$(date +%s) $r\"; sleep 1; done",
      ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: lab.dir.file("client.log"))

    // The upgrade: node02, then node03, each drained, off, switched, on, checked, active.
    let (run, times) = try Self.timed(
      boot, ["upgrade", "workers", "--image", "realos-2", "--yes", "--json", "--wait", "600", "--dnsmasq-option", "no-ping"])
    #expect(run.status == 0, "upgrade: \(run.stderrText.suffix(4000))")
    let steps = Self.outcomes(run)
    let order = steps.map(\.node).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
    #expect(order == ["node02", "node03"], "one node at a time: \(run.stdoutText)")
    #expect(steps.allSatisfy { $0.status == "done" || $0.status == "skipped" }, "\(run.stdoutText)")
    for (name, _) in Self.workers {
      let release = try boot.piswarm(["exec", name, "--", "cat", "/etc/piswarm-release"], timeout: 60)
      #expect(release.status == 0 && release.stdoutText.contains("piswarm-e2e 2"), "\(name): \(release.stdoutText)")
    }
    let failures = Self.failures(lab)
    // Draining node02 moves its replica to node03, and swarm does not move it back when node02
    // is active again: node03 holds both when its turn comes. Its spread step starts a task on
    // node02 first (measured before it: 32-39 s of failed rounds at the second drain).
    #expect(failures.isEmpty, "the client saw the service down at \(failures.count) rounds from \(failures.first ?? "")")
    let spreads = steps.filter { $0.step == "spread" }.map { "\($0.node): \($0.status) (\($0.detail ?? ""))" }
    print("upgrade spread steps: \(spreads.joined(separator: " | "))")
    #expect(try Self.answering(boot, Self.workers.map { ip($0.0) }) >= 1, "the service answers after the upgrade")
    let nodeSeconds = Self.perNode(times, steps: steps)

    // The bad image, canary node03: it stops there, node02 untouched; rollback brings it back.
    let (bad, badTimes) = try Self.timed(
      boot,
      [
        "upgrade", "workers", "--image", "realos-bad", "--canary", "node03", "--yes", "--json", "--check-timeout", "240",
        "--dnsmasq-option", "no-ping",
      ])
    #expect(bad.status == 1, "\(bad.stderrText.suffix(3000))")
    let badSteps = Self.outcomes(bad)
    #expect(badSteps.first { $0.status == "failed" }.map { "\($0.node) \($0.step)" } == "node03 check", "\(bad.stdoutText)")
    #expect(!badSteps.contains { $0.node == "node02" }, "node02 was touched: \(bad.stdoutText)")
    #expect(bad.stderrText.contains("rollback node03"), "\(bad.stderrText)")
    let (rollback, rollbackTimes) = try Self.timed(
      boot, ["rollback", "node03", "--yes", "--json", "--wait", "600", "--dnsmasq-option", "no-ping"])
    #expect(rollback.status == 0, "rollback: \(rollback.stderrText.suffix(3000))")
    let docker = try boot.piswarm(["exec", "node03", "--", "systemctl", "is-active", "docker"], timeout: 60)
    #expect(docker.stdoutText.contains("\nactive") || docker.stdoutText.hasPrefix("active"), "\(docker.stdoutText)")
    let ready = try boot.piswarm(
      ["exec", "node01", "--", "docker", "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}}"], timeout: 60)
    for name in ["node02", "node03"] { #expect(ready.stdoutText.contains("\(name) Ready Active"), "\(ready.stdoutText)") }
    let release = try boot.piswarm(["exec", "node03", "--", "cat", "/etc/piswarm-release"], timeout: 60)
    #expect(release.stdoutText.contains("piswarm-e2e 2"), "node03 is back on realos-2: \(release.stdoutText)")
    #expect(Self.failures(lab).count == failures.count, "the client saw the service down during the canary or the rollback")

    print(
      """
      upgrade end-to-end (2 worker VMs, TCG -smp 1, tb-size=256; namespace manager):
        up (roots made, VMs booted, Docker, swarm)   \(String(format: "%6.1f s", upSeconds))
        upgrade --image, per node                    \(nodeSeconds.map { "\($0.0) \(String(format: "%.1f s", $0.1))" }.joined(separator: ", "))
        upgrade --image, both nodes                  \(String(format: "%6.1f s", times.total))
        bad image, stopped at the canary             \(String(format: "%6.1f s", badTimes.total))
        rollback of the canary                       \(String(format: "%6.1f s", rollbackTimes.total))
        client rounds (1/s), failed                  \(Self.rounds(lab)), \(Self.failures(lab).count)
        whole test                                   \(String(format: "%6.1f s", Date().timeIntervalSince(started)))
      """)
  }

  static let busyboxCache = "/var/cache/piswarm/busybox-multiarch"

  /// A copy of `image` with its root partition (the second) edited by debugfs commands, through
  /// a loop device over that partition (removed before returning).
  static func derive(_ image: String, to copy: String, debugfs commands: [String]) throws -> String {
    try Command("cp", ["--reflink=auto", "--sparse=always", image, copy], timeout: 600).check()
    let table = try Command("sfdisk", ["-J", copy]).check().stdout
    struct Table: Decodable {
      struct Inner: Decodable { var partitions: [Partition] }
      struct Partition: Decodable {
        var start: Int
        var size: Int
      }
      var partitiontable: Inner
    }
    let root = try #require(try JSONDecoder().decode(Table.self, from: table).partitiontable.partitions.last)
    let device = try Command(
      "losetup", ["--find", "--show", "--offset", "\(root.start * 512)", "--sizelimit", "\(root.size * 512)", copy]
    ).check().stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    defer { _ = try? Command("losetup", ["-d", device]).run() }
    for command in commands {
      let edited = try Command("debugfs", ["-w", "-R", command, device], timeout: 120).run()
      try #require(edited.status == 0 && !edited.stderrText.contains("debugfs: "), "debugfs \(command): \(edited.stderrText)")
    }
    return copy
  }

  /// How many of `addresses` answer on 8080 or 8081, from the head's namespace.
  static func answering(_ boot: DisklessBoot, _ addresses: [String]) throws -> Int {
    try addresses.filter { address in
      try ["8080", "8081"].contains { port in
        try Command(
          "nsenter",
          ["--net=/run/netns/\(boot.lab.head)", "curl", "-sf", "-m", "3", "-o", "/dev/null", "http://\(address):\(port)/"]
        ).run().status == 0
      }
    }.count
  }

  /// `piswarm ARGUMENTS` with each stdout line's arrival time (seconds since the start).
  static func timed(
    _ boot: DisklessBoot, _ arguments: [String]
  ) throws -> (Command.Output, (lines: [(String, Double)], total: Double)) {
    let started = Date()
    let lines = Mutex<(pending: String, lines: [(String, Double)])>(("", []))
    let output = try Command(
      "nsenter", ["--net=/run/netns/\(boot.lab.head)", NetbootLab.piswarmBinary] + arguments, environment: boot.environment,
      timeout: 5400
    ).run { data, isError in
      guard !isError else { return }
      let now = Date().timeIntervalSince(started)
      lines.withLock { state in
        state.pending += String(decoding: data, as: UTF8.self)
        while let newline = state.pending.firstIndex(of: "\n") {
          state.lines.append((String(state.pending[..<newline]), now))
          state.pending.removeSubrange(...newline)
        }
      }
    }
    print("piswarm \(arguments.joined(separator: " ")):\n\(output.stderrText.suffix(6000))")
    return (output, (lines.withLock { $0.lines }, Date().timeIntervalSince(started)))
  }

  static func outcomes(_ output: Command.Output) -> [Outcome] { UpgradeIntegrationTests().outcomes(output) }

  /// Seconds each node took: from the previous node's last step (or the start) to its own last.
  static func perNode(_ times: (lines: [(String, Double)], total: Double), steps: [Outcome]) -> [(String, Double)] {
    var result: [(String, Double)] = []
    var last = 0.0
    for (line, time) in times.lines {
      guard let outcome = try? JSONDecoder().decode(Outcome.self, from: Data(line.utf8)) else { continue }
      if result.last?.0 == outcome.node {
        result[result.count - 1].1 = time - last + result[result.count - 1].1
      } else {
        result.append((outcome.node, time - last))
      }
      last = time
    }
    return result
  }

  static func clientLines(_ lab: NetbootLab) -> [Substring] {
    (lab.dir.read("client.log") ?? "").split(separator: "\n")
  }

  static func rounds(_ lab: NetbootLab) -> Int { clientLines(lab).count }

  /// The client's failed rounds (their times).
  static func failures(_ lab: NetbootLab) -> [String] {
    clientLines(lab).filter { $0.hasSuffix(" FAIL") }.map { String($0.prefix { $0 != " " }) }
  }

  static func stop(_ pid: pid_t) {
    Processes.signal(pid, SIGTERM)
    if !Processes.waitForExit([pid], timeout: 5).isEmpty { Processes.signal(pid, SIGKILL) }
    _ = Processes.waitForExit([pid], timeout: 5)
    Processes.reap(pid)
  }
}
