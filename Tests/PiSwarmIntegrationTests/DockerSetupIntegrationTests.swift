import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm up` setting up Docker on lab nodes for real: daemon.json, and the storage modes
/// loopfile, tmpfs and device (a loop device standing in for a USB disk), mounted at boot.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct DockerSetupIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  @Test func storageModesAndDaemonJSONConvergeAndSurviveARestart() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    // The "disk" of node04: an image file on the host, attached as a loop device by this test.
    let disk = lab.state.path + "/usb-disk.img"
    try Command("truncate", ["-s", "300M", disk]).check()
    let device = try Command("losetup", ["-f", "--show", disk]).check().stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    try #require(device.hasPrefix("/dev/loop"))
    // Detached once the lab is down (node04 has it mounted until then); the outer defer then
    // checks that nothing is left.
    defer {
      _ = try? lab.piswarm(["lab", "down", "--name", lab.name])
      Cleanup.detach(loop: device)
    }

    let file = try lab.up(nodes: 4, managers: 1)
    var text = try String(contentsOfFile: file, encoding: .utf8)
    text = text.replacingOccurrences(of: "  - name: node02\n", with: "  - name: node02\n    docker_storage: loopfile:1G\n")
      .replacingOccurrences(of: "  - name: node03\n", with: "  - name: node03\n    docker_storage: tmpfs:512M\n")
      .replacingOccurrences(of: "  - name: node04\n", with: "  - name: node04\n    docker_storage: device:\(device)\n")
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    let index = try #require(text.firstMatch(of: /address: 10\.231\.(\d+)\.1\//)?.1)
    let ip = { (n: Int) in "10.231.\(index).1\(n)" }
    let dockerInfo = "docker info --format '{{.Driver}} {{(index .DriverStatus 0)}} {{.Swarm.LocalNodeState}}'"

    // plan shows the storage steps and changes nothing.
    let plan = try lab.piswarm(["--file", file, "plan", "--json"])
    let planned = try JSONSerialization.jsonObject(with: plan.stdout) as? [[String: String]] ?? []
    #expect(
      planned.contains {
        $0["node"] == "node02" && $0["step"] == "docker" && $0["change"]?.hasPrefix("storage loopfile:1G") == true
      })
    #expect(planned.contains { $0["node"] == "node03" && $0["change"]?.hasPrefix("storage tmpfs:512M") == true })
    #expect(try lab.ssh(ip(2), "cat /var/lib/piswarm-node/storage.mode 2>/dev/null || echo none").stdoutText == "none\n")

    // Without --format the unformatted device is refused, before anything stops on node04; the
    // others complete.
    let refused = try lab.piswarm(["--file", file, "up"])
    #expect(refused.status == 1)
    #expect(refused.stderrText.contains("node04: \(device) holds no filesystem"), "\(refused.stderrText)")
    #expect(refused.stderrText.contains("--format"))
    #expect(try Command("blkid", ["-p", "-o", "value", "-s", "TYPE", device]).run().stdoutText.isEmpty)
    #expect(try lab.ssh(ip(4), "docker info --format '{{.ServerVersion}}' >/dev/null && echo up").stdoutText == "up\n")

    let formatted = try lab.piswarm(["--file", file, "up", "--format"])
    #expect(formatted.status == 0, "\(formatted.stderrText)")
    #expect(try Command("blkid", ["-p", "-o", "value", "-s", "TYPE", device]).run().stdoutText == "ext4\n")
    // The loopfile is a raw copy of /var/lib/docker (swarm CA, raft keys): root's only.
    #expect(try lab.ssh(ip(2), "stat -c %a /var/lib/piswarm-node/docker.ext4").stdoutText == "600\n")
    var footprint = LabIntegrationTests.Footprint(labs: [lab])
    footprint.recordNamespaces()
    footprint.recordLoopFiles()
    #expect(footprint.items().contains { $0.hasPrefix("loop device ") }, "the footprint check must see node02's loop device")

    // What docker info says about each node's storage: overlay2 on ext4 (extfs) or tmpfs.
    let backing = try (1...4).map { n in try lab.ssh(ip(n), dockerInfo).stdoutText }
    #expect(backing[1] == "overlay2 [Backing Filesystem extfs] active\n", "\(backing)")
    #expect(backing[2] == "overlay2 [Backing Filesystem tmpfs] active\n", "\(backing)")
    #expect(backing[3] == "overlay2 [Backing Filesystem extfs] active\n", "\(backing)")
    // df names the top mount: the one Docker sees.
    let source = "df --output=source,fstype /var/lib/docker /var/lib/containerd | tail -n +2 | tr -s ' '"
    #expect(
      try lab.ssh(ip(2), source).stdoutText.split(separator: "\n").allSatisfy {
        $0.hasPrefix("/dev/loop") && $0.hasSuffix(" ext4")
      })
    #expect(try lab.ssh(ip(3), source).stdoutText == "tmpfs tmpfs\ntmpfs tmpfs\n")
    #expect(try lab.ssh(ip(4), source).stdoutText == "\(device) ext4\n\(device) ext4\n")
    let list = try lab.ssh(ip(1), "docker node ls --format '{{.Hostname}} {{.Status}}' | sort").stdoutText
    #expect(list == "node01 Ready\nnode02 Ready\nnode03 Ready\nnode04 Ready\n", "\(list)")
    // The image every lab node has survived the move to the new storage.
    #expect(try lab.ssh(ip(2), "docker image ls -q | wc -l").stdoutText != "0\n")

    // The user's own docker CLI reaches the swarm through the context up wrote.
    var environment = ProcessInfo.processInfo.environment
    environment["DOCKER_CONFIG"] = lab.dockerConfig
    let context = try Command(
      "docker", ["--context", "lab-\(lab.name)", "node", "ls", "--format", "{{.Hostname}}"], environment: environment, timeout: 60
    ).run()
    #expect(
      context.stdoutText.split(separator: "\n").sorted() == ["node01", "node02", "node03", "node04"], "\(context.stderrText)")

    // Converged: a second run changes nothing.
    let again = try lab.piswarm(["--file", file, "up"])
    #expect(again.status == 0 && again.stderrText.contains("no changes"), "\(again.stderrText)")

    // The storage comes back at boot (the node's init mounts its fstab, as a real node does),
    // with the node still in its swarm.
    #expect(try lab.piswarm(["lab", "stop", "--name", lab.name, "node02"]).status == 0)
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, "node02"]).status == 0)
    var rebooted = ""
    for _ in 0..<50 {
      rebooted = try lab.ssh(ip(2), dockerInfo).stdoutText
      if rebooted.hasSuffix("active\n") { break }
      usleep(200_000)
    }
    #expect(rebooted == "overlay2 [Backing Filesystem extfs] active\n")
    #expect(try lab.ssh(ip(2), source).stdoutText.hasPrefix("/dev/loop"))
    let afterBoot = try lab.piswarm(["--file", file, "up"])
    #expect(afterBoot.stderrText.contains("no changes"), "\(afterBoot.stderrText)")

    // A daemon.json setting changes: written everywhere, every dockerd restarted and back.
    try (text + "docker:\n  log_max_files: 5\n").write(toFile: file, atomically: true, encoding: .utf8)
    let restarted = try lab.piswarm(["--file", file, "up", "--json"])
    #expect(restarted.status == 0, "\(restarted.stderrText)")
    let outcomes = try JSONSerialization.jsonObject(with: restarted.stdout) as? [[String: Any]] ?? []
    #expect(outcomes.map { $0["action"] as? String } == ["docker node02", "docker node03", "docker node04", "docker node01"])
    #expect(
      outcomes.allSatisfy { $0["change"] as? String == "daemon.json, restart dockerd" && $0["status"] as? String == "done" },
      "\(restarted.stdoutText)")
    for n in 1...4 {
      let config = try lab.ssh(ip(n), "cat /etc/docker/daemon.json").stdoutText
      #expect(config.contains("\"max-file\": \"5\""))
      #expect(config.contains("\"cgroup-parent\""), "keys piswarm does not own are kept")
    }
    let listed = try lab.ssh(ip(1), "docker node ls --format '{{.Status}}' | sort | uniq -c").stdoutText
    #expect(listed.trimmingCharacters(in: .whitespacesAndNewlines) == "4 Ready", "\(listed)")

    // A change that would lose data is refused with advice, and nothing changes on the node.
    try (text.replacingOccurrences(of: "loopfile:1G", with: "tmpfs:1G") + "docker:\n  log_max_files: 5\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let unsafe = try lab.piswarm(["--file", file, "up"])
    #expect(unsafe.status == 1)
    #expect(
      unsafe.stderrText.contains("node02: Docker's storage is loopfile:1G and cluster.yml says tmpfs:1G"), "\(unsafe.stderrText)")

    // The only manager that holds the swarm fails its Docker setup (a daemon.json that is not
    // JSON), while a fresh node is to become a second manager: up must find the swarm through
    // the failing manager and join the new one to it, never start a second swarm.
    #expect(try lab.ssh(ip(4), "docker swarm leave --force >/dev/null && echo left").stdoutText == "left\n")
    #expect(
      try lab.ssh(ip(1), "cp /etc/docker/daemon.json /root/daemon.json && echo '{' > /etc/docker/daemon.json && echo ok")
        .stdoutText == "ok\n")
    let twoManagers =
      text.replacingOccurrences(of: "managers: [node01]", with: "managers: [node01, node04]")
      + "docker:\n  log_max_files: 5\n"
    try #require(twoManagers.contains("managers: [node01, node04]"), "\(text)")
    try twoManagers.write(toFile: file, atomically: true, encoding: .utf8)
    let held = try lab.piswarm(["--file", file, "up"])
    #expect(held.status == 1)
    #expect(held.stderrText.contains("node01: /etc/docker/daemon.json on node01 is not a JSON object"), "\(held.stderrText)")
    let managers = try lab.ssh(ip(1), "docker node ls --filter role=manager --format '{{.Hostname}}' | sort").stdoutText
    #expect(managers == "node01\nnode04\n", "node04 joined the existing swarm as a manager: \(managers)")
    #expect(
      try lab.ssh(ip(4), "docker info --format '{{.Swarm.Cluster.ID}}'").stdoutText
        == (try lab.ssh(ip(1), "docker info --format '{{.Swarm.Cluster.ID}}'").stdoutText))
    _ = try lab.ssh(ip(1), "cp /root/daemon.json /etc/docker/daemon.json")

    _ = try lab.piswarm(["lab", "down", "--name", lab.name])
    Cleanup.detach(loop: device)
    lab.down()
    #expect(footprint.items().isEmpty, "\(footprint.items())")
  }
}
