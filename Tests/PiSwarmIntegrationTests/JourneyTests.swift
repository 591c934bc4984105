import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The seeds' journey as one run: a cluster file with 3 namespace nodes of a lab (`piswarm lab
/// up`: real sshd and dockerd, amd64, the swarm's managers) and 2 QEMU arm64 lab VMs (workers,
/// `boot: netboot`, `docker_storage: loopfile:2G`, the `lab` power driver), powered off, and
/// nothing of netboot written yet. One `piswarm up` makes the VMs' roots and TFTP folders,
/// restarts dnsmasq and ganesha through the cluster file's commands, switches the VMs on; they netboot the Raspberry-Pi-OS-shaped Debian 12 arm64 root
/// of scripts/realos-image.sh from piswarm's dnsmasq and NFS export, reach multi-user.target,
/// answer SSH with the pinned key (strict), run dockerd with overlay2 on the loop-mounted ext4
/// file on their NFS root, join the swarm, and run the stack of `stacks:` whose image (Debian's
/// busybox-static for amd64 and arm64, a manifest list made by scripts/multiarch-image.sh) comes
/// from the head's private registry: `arm` constrained to aarch64, `everywhere` global (5
/// tasks). Then `piswarm power cycle` one VM: the same host key, its Docker storage mounted at
/// boot, the same swarm node, its tasks back. A second `up` changes nothing. Each VM's boot is
/// timed phase by phase and printed.
///
/// The head is a network namespace of its own (NetbootLab): the lab's switch, dnsmasq, ganesha
/// and the registry all live there, so nothing leaves it. `make e2e` (PISWARM_E2E=1).
@Suite(.serialized, .enabled(if: RealOS.shouldRun)) struct JourneyTests {
  struct VM {
    var node: String
    var mac: String
    var host: Int
  }

  /// What applyNetboot gives dnsmasq's configuration: up and plan render the same (else each
  /// would rewrite the other's).
  static let netbootOptions = ["--dnsmasq-option", "no-ping"]

  static let vms = [
    VM(node: "node04", mac: "52:54:00:5e:0b:04", host: 14), VM(node: "node05", mac: "52:54:00:5e:0b:05", host: 15),
  ]
  static let image = "piswarm/busybox:1"

  static var missing: [String] { RealOS.missing + MultiArchImage.programs.filter { Command.resolve($0) == nil } }

  @Test func oneUpTakesPoweredOffDisklessArmVMsAndNamespaceManagersToAMultiArchStackFromTheHeadsRegistry() throws {
    guard EndToEnd.require(Self.missing) else { return }
    let started = Date()
    let imageSeconds = try RealOS.buildImage()
    try MultiArchImage.download()

    let boot = try DisklessBoot(mac: Self.vms[0].mac, ip: "", node: Self.vms[0].node)
    defer { boot.stop() }
    let lab = boot.lab
    let labName = "jy" + lab.id.prefix(8)

    // Three namespace nodes, made from the head's namespace: the lab's switch is cabled to it.
    // `lab up` starts only what is not running: again when a node was slow to start (a node
    // gets 72 s, and this machine is shared).
    boot.labVM = labName
    var labUp = try boot.piswarm(["lab", "up", "--name", labName, "--nodes", "3", "--managers", "3"], timeout: 600)
    for _ in 0..<2 where labUp.status != 0 {
      print("journey: lab up again after: \(labUp.stderrText.suffix(500))")
      labUp = try boot.piswarm(["lab", "up", "--name", labName, "--nodes", "3", "--managers", "3"], timeout: 600)
    }
    try #require(labUp.status == 0, "lab up: \(labUp.stderrText)")
    let labFile = try #require(labUp.stdoutText.split(separator: "\n").last.map(String.init))
    let labText = try String(contentsOfFile: labFile, encoding: .utf8)
    let net = try #require(labText.firstMatch(of: /address: (10\.231\.\d+)\.1\/24/)?.1).description
    let head = "\(net).1"

    // The head's private registry first, as a user does before a stack names their image: the
    // cluster file without its Pis yet (`up --only registry` with nodes that are off plans only
    // their power-on), then the multi-arch image pushed to it over TLS with the cluster CA.
    try Self.writeCluster(boot, labText: labText, net: net, vms: [])
    let registry = try boot.piswarm(["up", "--only", "registry"], timeout: 300)
    print("journey: up --only registry:\n\(registry.stderrText.suffix(2000))")
    try #require(registry.status == 0, "up --only registry: \(registry.stderrText.suffix(3000))")
    let (digest, _) = try MultiArchImage.push(
      "https://\(head):5000", Self.image, ca: lab.state + "/registry/ca.crt", namespace: lab.head)

    // The Pis: two VMs of the lab on its switch, powered off.
    try Self.writeCluster(boot, labText: labText, net: net, vms: Self.vms)
    try boot.importImage(RealOS.cache + "/realos.img", name: "realos")
    let (kernel, initrd) = RealOS.importedBoot(lab.state)
    for vm in Self.vms {
      try boot.addLabVM(
        lab: labName, kernel: kernel, initrd: initrd, memoryMiB: 1024, node: vm.node, mac: vm.mac, labSwitch: true)
    }

    // The head's NFS server and dnsmasq run as a user's would without systemd: ganesha started
    // before piswarm wrote anything (an empty configuration), each restarted by the cluster
    // file's command once `up` has written their files. Replies broadcast: dnsmasq's unicast
    // offer needs an ARP entry, and the kernel's neighbour table is shared by every namespace on
    // the machine (other tests' 100-node labs fill it: "ARP-cache injection failed: No buffer
    // space available", and the VMs get no lease).
    try Files.makeDirectory(lab.state + "/netboot", mode: 0o755)
    try Data().write(to: URL(fileURLWithPath: lab.state + "/netboot/ganesha.conf"))
    // Following mounts: `up` mounts the roots (copy-on-write overlays) after ganesha started.
    boot.ganesha = try DisklessBoot.startGanesha(lab, followingMounts: true)
    #expect(try DisklessBoot.restartGaneshaScript(lab, unshare: try #require(boot.ganesha)) == Self.ganeshaRestart(lab))
    #expect(boot.dnsmasqRestartScript(extra: ["--dhcp-broadcast"]) == Self.dnsmasqRestart(lab))

    // The plan from cold: the VMs are switched on and waited for; the rest (Docker, the swarm,
    // the stack) is planned once they are up, in the same run.
    let plan = try boot.piswarm(["plan", "--json"] + Self.netbootOptions, timeout: 300)
    let planned = (try? JSONSerialization.jsonObject(with: plan.stdout)) as? [[String: String]] ?? []
    let actions = Set(planned.compactMap { $0["action"] })
    for vm in Self.vms {
      #expect(actions.contains("root \(vm.node)"), "\(plan.stdoutText)")
      #expect(actions.contains("power on \(vm.node)") && actions.contains("wait boot \(vm.node)"), "\(plan.stdoutText)")
    }
    for action in ["netboot files on head", "dnsmasq restart", "NFS reload command"] {
      #expect(actions.contains(action), "\(action): \(plan.stdoutText)")
    }

    // One up, timed per VM from its console.
    let clocks = Self.vms.map { ConsoleClock(file: boot.console(of: $0.node), markers: RealOS.markers.map(\.marker)) }
    let upStarted = Date()
    // A task on a VM waits for its dockerd to set up the overlay network under TCG (minutes).
    let up = try boot.piswarm(["up", "--stack-timeout", "1200"] + Self.netbootOptions, timeout: 3600)
    let upSeconds = Date().timeIntervalSince(upStarted)
    print("journey: up in \(Int(upSeconds)) s:\n\(up.stdoutText)\n\(up.stderrText.suffix(6000))")
    #expect(up.status == 0, "up: \(up.stderrText.suffix(3000))")
    var firstBoots: [[(String, Double?)]] = []
    for (index, vm) in Self.vms.enumerated() {
      firstBoots.append(try Self.phases(boot, vm.node, clocks[index], joined: true))
      clocks[index].stop()
    }

    // Each VM: a real OS with piswarm's rules, its Docker on the loop file on the NFS root.
    for vm in Self.vms {
      let facts = try Self.exec(boot, vm.node, RealOS.factsScript + RealOS.dockerScript)
      print("journey: \(vm.node):\n\(facts)")
      #expect(facts.contains("target=active"), "\(vm.node): \(facts)")
      #expect(facts.contains("package=network-manager install ok installed"), "\(vm.node): \(facts)")
      #expect(facts.contains("package=cloud-init install ok installed"), "\(vm.node): \(facts)")
      #expect(facts.contains("nm=eth0:unmanaged"), "\(vm.node): \(facts)")
      #expect(facts.contains("root=nfs"), "\(vm.node): \(facts)")
      #expect(facts.contains("dockerd=active"), "\(vm.node): \(facts)")
      #expect(facts.contains("driver=overlay2 extfs"), "\(vm.node): \(facts)")
      #expect(facts.contains("store=/dev/loop"), "\(vm.node): \(facts)")
      #expect(facts.contains("back-file=/var/lib/piswarm-node/docker.ext4"), "\(vm.node): \(facts)")
      #expect(facts.contains("swarm=active"), "\(vm.node): \(facts)")
    }

    // The swarm: 5 nodes Ready, the VMs aarch64 workers, the namespace nodes x86_64 managers.
    let nodes = try Self.swarmNodes(boot)
    #expect(nodes.count == 5 && nodes.allSatisfy { $0.state == "ready" }, "\(nodes)")
    #expect(nodes.filter { $0.arch == "aarch64" }.map(\.name).sorted() == Self.vms.map(\.node), "\(nodes)")
    #expect(nodes.filter { $0.arch == "x86_64" }.count == 3, "\(nodes)")

    // The stack: its image resolved from the head's registry (the list's digest), arm on the
    // VMs only, everywhere on all five; each task printed the machine it ran on.
    let tasks = try Self.runningTasks(boot)
    print("journey: tasks \(tasks)")
    let arm = tasks.filter { $0.service == "journey_arm" }
    let everywhere = tasks.filter { $0.service == "journey_everywhere" }
    #expect(arm.count == 2 && Set(arm.map(\.node)) == Set(Self.vms.map(\.node)), "\(tasks)")
    #expect(everywhere.count == 5 && Set(everywhere.map(\.node)).count == 5, "\(tasks)")
    let imageOf = try Self.exec(
      boot, "node01", "docker service inspect journey_everywhere --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}'")
    #expect(imageOf.contains("\(head):5000/\(Self.image)@\(digest)"), "\(imageOf)")
    let logs = try Self.exec(
      boot, "node01", "docker service logs --raw journey_everywhere 2>&1; docker service logs --raw journey_arm 2>&1")
    #expect(logs.contains("machine=x86_64") && logs.contains("machine=aarch64"), "\(logs)")

    // A power cycle through piswarm: the same identity, Docker storage mounted at boot, the same
    // swarm node (no duplicate), its tasks back.
    let cycled = Self.vms[1]
    let hostKey = lab.dir.read("nfs/\(cycled.node)/etc/ssh/ssh_host_ed25519_key.pub")
    let nodeID = try Self.exec(boot, "node01", "docker node inspect \(cycled.node) --format '{{.ID}}'")
    // The old console goes first: a clock started on it would see every marker at once (0.0 s).
    try? FileManager.default.removeItem(atPath: boot.console(of: cycled.node))
    let clock = ConsoleClock(file: boot.console(of: cycled.node), markers: RealOS.markers.map(\.marker))
    let cycle = try boot.piswarm(["power", "cycle", cycled.node], timeout: 1200)
    #expect(cycle.status == 0, "power cycle: \(cycle.stderrText)")
    let back = Deadline(in: 900)
    var returned: [Task] = []
    repeat {
      returned = (try? Self.runningTasks(boot))?.filter { $0.node == cycled.node } ?? []
      if returned.count == 2 { break }
      sleep(2)
    } while !back.hasPassed
    let tasksBack = clock.qemuStarted.map { Date().timeIntervalSince(clock.started) - $0 }
    #expect(returned.count == 2, "\(cycled.node)'s tasks did not return within 900 s: \(returned)")
    var secondBoot = try Self.phases(boot, cycled.node, clock, joined: false)
    clock.stop()
    secondBoot[secondBoot.count - 1].1 = tasksBack
    let after = try Self.exec(boot, cycled.node, RealOS.dockerScript)
    #expect(after.contains("driver=overlay2 extfs") && after.contains("store=/dev/loop"), "\(after)")
    #expect(lab.dir.read("nfs/\(cycled.node)/etc/ssh/ssh_host_ed25519_key.pub") == hostKey, "the host key changed")
    #expect(try Self.exec(boot, "node01", "docker node inspect \(cycled.node) --format '{{.ID}}'") == nodeID)
    #expect(try Self.swarmNodes(boot).count == 5, "a duplicate node entry after the cycle")

    // status shows the phases; a second up changes nothing.
    let status = try boot.piswarm(["status", "--json"], timeout: 300)
    let rows = try JSONDecoder().decode([RealOS.StatusRow].self, from: Data(status.stdoutText.utf8))
    for vm in Self.vms {
      #expect(rows.first { $0.node == vm.node }?.bootPhase == "swarm-ready", "\(vm.node): \(status.stdoutText)")
    }
    let again = try boot.piswarm(["up"] + Self.netbootOptions, timeout: 1200)
    #expect(again.status == 0 && again.stderrText.contains("no changes"), "second up: \(again.stderrText.suffix(3000))")

    print(
      Self.report(
        imageSeconds: imageSeconds, upSeconds: upSeconds, first: firstBoots, cycled: cycled.node, second: secondBoot,
        total: Date().timeIntervalSince(started)))
  }

  /// The journey's cluster file: the lab's own (its namespace nodes, key, power driver, the
  /// three managers), the head serving DHCP on the lab's link, the VMs as netboot workers, the
  /// private registry only (the head has no internet: `cache: false`), one stack.
  /// Without `vms`: the namespace nodes alone (before the Pis are added).
  static func writeCluster(_ boot: DisklessBoot, labText: String, net: String, vms: [VM]) throws {
    let lab = boot.lab
    var lines = headCluster(
      boot, labText: labText,
      beforeNodes: [
        // The boot ROM's TFTP never comes from a lab VM (QEMU loads its kernel): the wait for
        // it is the whole boot under TCG on a shared machine.
        "power:", "  boot_timeouts: { dhcp: 300, tftp: 1200, nfs_root: 1200, ssh: 600 }",
        "registry:", "  cache: false", "stacks:", "  journey: journey.yml",
      ])
    for vm in vms {
      lines += [
        "  - name: \(vm.node)", "    mac: \"\(vm.mac)\"", "    ip: \(net).\(vm.host)", "    model: pi4", "    boot: netboot",
        "    docker_storage: loopfile:2G",
      ]
    }
    lab.dir.write("cluster.yml", lines.joined(separator: "\n") + "\n")
    lab.dir.write(
      "journey.yml",
      """
      version: "3.8"
      services:
        arm:
          image: \(net).1:5000/\(image)
          command: ["sh", "-c", "echo machine=$$(uname -m); exec sleep 100000"]
          stop_signal: SIGKILL
          deploy:
            replicas: 2
            endpoint_mode: dnsrr
            placement:
              constraints: [node.platform.arch == aarch64]
              max_replicas_per_node: 1
        everywhere:
          image: \(net).1:5000/\(image)
          command: ["sh", "-c", "echo machine=$$(uname -m); exec sleep 100000"]
          stop_signal: SIGKILL
          deploy:
            mode: global
            endpoint_mode: dnsrr

      """)
  }

  /// The lab's cluster file as the lines of one whose head serves DHCP, TFTP and NFS on the
  /// lab's link (restarted through the cluster file's commands), netboot nodes made from
  /// realos, `beforeNodes` before `nodes:` and the lab's namespace nodes; the caller adds the rest.
  static func headCluster(_ boot: DisklessBoot, labText: String, beforeNodes: [String]) -> [String] {
    let lab = boot.lab
    var lines: [String] = []
    for line in labText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      switch line.split(separator: ":").first.map(String.init) {
      case "name": lines.append("name: \(boot.clusterName)")
      case "  lan": lines.append("  lan: dhcp")
      case "  tftp_root": lines.append("  tftp_root: \(lab.tftpRoot)")
      case "  nfs_root": lines.append("  nfs_root: \(lab.dir.file("nfs"))")
      case "  dnsmasq_conf":
        lines += [
          "  dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))", "  dnsmasq_restart: [\(dnsmasqRestart(lab))]",
          "  nfs_reload: [\(ganeshaRestart(lab))]",
        ]
      // The netboot nodes' image (the namespace nodes boot nothing).
      case "defaults": lines += [line, "  image: realos"]
      case "nodes": lines += beforeNodes + [line]
      default: lines.append(line)
      }
    }
    while lines.last == "" { lines.removeLast() }
    return lines
  }

  /// The head's commands in the cluster file (DisklessBoot writes the scripts).
  static func dnsmasqRestart(_ lab: NetbootLab) -> String { lab.dir.file("dnsmasq-restart.sh") }
  static func ganeshaRestart(_ lab: NetbootLab) -> String { lab.dir.file("ganesha-restart.sh") }

  /// `piswarm exec NODE -- sh -c SCRIPT` (pinned host key, strict): the node's output without
  /// piswarm's header line.
  static func exec(_ boot: DisklessBoot, _ node: String, _ script: String) throws -> String {
    // A VM under TCG on a shared machine can miss a connect timeout: three tries.
    var output = try boot.piswarm(["exec", node, "--connect-timeout", "30", "--", "sh", "-c", script], timeout: 300)
    for _ in 0..<2 where output.status != 0 && output.stderrText.contains("unreachable") {
      sleep(5)
      output = try boot.piswarm(["exec", node, "--connect-timeout", "30", "--", "sh", "-c", script], timeout: 300)
    }
    try #require(output.status == 0, "exec on \(node): \(output.stderrText)")
    return output.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("── ") }
      .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
  }

  struct SwarmNode: CustomStringConvertible {
    var name: String
    var state: String
    var arch: String
    var description: String { "\(name) \(state) \(arch)" }
  }

  static func swarmNodes(_ boot: DisklessBoot) throws -> [SwarmNode] {
    let text = try exec(
      boot, "node01",
      "docker node ls -q | xargs docker node inspect --format '{{.Description.Hostname}} {{.Status.State}} {{.Description.Platform.Architecture}}'"
    )
    return text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 3 }
      .map { SwarmNode(name: $0[0], state: $0[1], arch: $0[2]) }
  }

  struct Task: CustomStringConvertible {
    var service: String
    var node: String
    var description: String { "\(service)@\(node)" }
  }

  /// The stack's tasks that run (`piswarm stack ps --json`).
  static func runningTasks(_ boot: DisklessBoot) throws -> [Task] {
    let ps = try boot.piswarm(["stack", "ps", "journey", "--json"], timeout: 120)
    let rows = (try? JSONSerialization.jsonObject(with: ps.stdout)) as? [[String: Any]] ?? []
    return rows.filter { $0["state"] as? String == "running" }
      .map { Task(service: $0["service"] as? String ?? "", node: $0["node"] as? String ?? "") }
  }

  /// One VM's boot, in seconds since its QEMU started: console lines up to systemd; the VM's
  /// own clock (CLOCK_MONOTONIC, from the kernel's start) for sshd, dockerd and
  /// multi-user.target; the swarm manager's record of when it joined (`joined`, first boot) or
  /// nil (filled by the caller: its tasks back after a cycle).
  static func phases(_ boot: DisklessBoot, _ node: String, _ clock: ConsoleClock, joined: Bool) throws -> [(String, Double?)] {
    clock.poll()
    let qemu = clock.qemuStarted ?? 0
    let kernel = clock.time(RealOS.markers[0].marker).map { $0 - qemu }
    var phases: [(String, Double?)] = [("QEMU started (power on)", 0)]
    for (marker, phase) in RealOS.markers.dropLast() { phases.append((phase, clock.time(marker).map { $0 - qemu })) }
    let units = try exec(
      boot, node,
      "for u in ssh.service docker.service multi-user.target; do echo \"$u $(systemctl show -p ActiveEnterTimestampMonotonic --value $u)\"; done"
    )
    var monotonic: [String: Double] = [:]
    for line in units.split(separator: "\n") {
      let fields = line.split(separator: " ")
      if fields.count == 2, let micro = Double(fields[1]), micro > 0 { monotonic[String(fields[0])] = micro / 1_000_000 }
    }
    for (unit, phase) in [
      ("ssh.service", "sshd active"), ("docker.service", "dockerd active"), ("multi-user.target", "multi-user.target"),
    ] {
      phases.append((phase, kernel.flatMap { start in monotonic[unit].map { start + $0 } }))
    }
    var swarm: Double?
    if joined {
      let created = (try? exec(boot, "node01", "docker node inspect \(node) --format '{{.CreatedAt}}'")) ?? ""
      let formatter = ISO8601DateFormatter()
      // Go's time format ("2026-11-26 07:27:14.83 +0000 UTC"): its first 19 characters, as ISO 8601.
      if let date = formatter.date(from: String(created.prefix(19)).replacingOccurrences(of: " ", with: "T") + "Z") {
        swarm = date.timeIntervalSince(clock.started) - qemu
      }
    }
    phases.append(("swarm: joined / tasks back", swarm))
    return phases
  }

  static func report(
    imageSeconds: Double, upSeconds: Double, first: [[(String, Double?)]], cycled: String, second: [(String, Double?)],
    total: Double
  ) -> String {
    func seconds(_ value: Double?) -> String { value.map { String(format: "%7.1f s", $0) } ?? "      —  " }
    let load =
      (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
      .joined(separator: " ") ?? "?"
    var lines = [
      "journey phases (seconds since each VM's QEMU started; TCG, -smp 1, tb-size=256; load \(load)):",
      "  image (realos-image.sh, cached when warm) \(seconds(imageSeconds))",
      "  the one up (power on → stack running)     \(seconds(upSeconds))",
      "  phase                         " + vms.map { $0.node.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
        + "\(cycled) after power cycle",
    ]
    for (index, phase) in (first.first ?? []).enumerated() {
      let columns = first.map { seconds($0[index].1) + "  " }.joined()
      lines.append("  \(phase.0.padding(toLength: 29, withPad: " ", startingAt: 0)) \(columns)\(seconds(second[index].1))")
    }
    lines.append("  whole test \(seconds(total))")
    return lines.joined(separator: "\n")
  }
}
