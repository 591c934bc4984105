import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// The branches of Scripts/engine-apply.sh that the storage test does not reach, each run on lab
/// nodes by `piswarm up`: managers restarted one at a time with the leader last, a loopfile
/// grown, a tmpfs resized, storage that is set up but not mounted repaired, and Docker installed
/// where a node has none (apt-get succeeding and failing).
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct EngineScriptIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  @Test func restartGrowResizeRepairAndInstall() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 5, managers: 3)
    let original = try String(contentsOfFile: file, encoding: .utf8)
    let index = try #require(original.firstMatch(of: /address: 10\.231\.(\d+)\.1\//)?.1)
    let ip = { (n: Int) in "10.231.\(index).1\(n)" }
    func write(_ storage4: String, _ storage5: String, docker: String = "") throws {
      let text =
        original.replacingOccurrences(of: "  - name: node04\n", with: "  - name: node04\n    docker_storage: \(storage4)\n")
        .replacingOccurrences(of: "  - name: node05\n", with: "  - name: node05\n    docker_storage: \(storage5)\n")
        .replacingOccurrences(of: "swarm:\n", with: docker + "swarm:\n")
      try text.write(toFile: file, atomically: true, encoding: .utf8)
    }
    func piswarmUp() throws -> Command.Output { try lab.piswarm(["--file", file, "up"], timeout: 400) }
    func ready() throws -> String {
      try lab.ssh(ip(1), "docker node ls --format '{{.Status}}' | sort | uniq -c").stdoutText
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let sizeOf = "df -k --output=size /var/lib/docker | tail -n 1 | tr -d ' '"

    try write("loopfile:1G", "tmpfs:256M")
    let first = try piswarmUp()
    try #require(first.status == 0, "\(first.stderrText)")
    #expect(try ready() == "5 Ready")
    // The loopfile holds the swarm's keys: root alone reads it.
    #expect(try lab.ssh(ip(4), "stat -c %a \(DockerStorageLayout.loopfile)").stdoutText == "600\n")

    // A daemon.json change restarts every dockerd; managers one at a time, the leader last.
    try write("loopfile:1G", "tmpfs:256M", docker: "docker:\n  log_max_size: 20m\n")
    let restart = try piswarmUp()
    #expect(restart.status == 0, "\(restart.stderrText)")
    let finished = restart.stderrText.split(separator: "\n").compactMap { line -> String? in
      guard line.contains("restart dockerd: done") else { return nil }
      return ["node01", "node02", "node03"].first { line.contains($0) }
    }
    #expect(finished.count == 3 && finished.last == "node01", "\(restart.stderrText)")
    #expect(try ready() == "5 Ready")

    // Grown and resized, in place, keeping the swarm.
    let before = Int(try lab.ssh(ip(4), sizeOf).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    try write("loopfile:2G", "tmpfs:384M", docker: "docker:\n  log_max_size: 20m\n")
    let grown = try piswarmUp()
    #expect(grown.status == 0, "\(grown.stderrText)")
    #expect(grown.stderrText.contains("grow storage to loopfile:2G"), "\(grown.stderrText)")
    #expect(grown.stderrText.contains("resize storage to tmpfs:384M"), "\(grown.stderrText)")
    let after = Int(try lab.ssh(ip(4), sizeOf).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    #expect(after > before + 900_000, "loopfile: \(before) kB → \(after) kB")
    #expect(try lab.ssh(ip(5), sizeOf).stdoutText == "\(384 * 1024)\n")
    #expect(try lab.ssh(ip(4), "stat -c %a \(DockerStorageLayout.loopfile)").stdoutText == "600\n")
    #expect(try ready() == "5 Ready")

    // Set up but not mounted (a failed mount at boot): repaired, dockerd back on its storage.
    let unmount =
      "/etc/init.d/docker stop && umount /var/lib/containerd /var/lib/docker \(DockerStorageLayout.store) && echo down"
    #expect(try lab.ssh(ip(4), unmount).stdoutText == "down\n")
    let repaired = try piswarmUp()
    #expect(repaired.status == 0, "\(repaired.stderrText)")
    #expect(repaired.stderrText.contains("mount storage loopfile:2G"), "\(repaired.stderrText)")
    #expect(try lab.ssh(ip(4), "findmnt -n -o SOURCE \(DockerStorageLayout.store)").stdoutText.hasPrefix("/dev/loop"))
    #expect(try ready() == "5 Ready")

    // No dockerd on node05: apt-get installs it. node05 gets a /usr/sbin of its own (an overlay
    // over the host's, without dockerd and policy-rc.d), and its package manager is a stand-in (a
    // lab node shares the host's packages) that installs dockerd by mounting the host's in place, after
    // checking that no service may start meanwhile (policy-rc.d).
    let aptGet = """
      #!/bin/sh
      echo "apt-get $*" >> /var/log/apt-stand-in.log
      [ "$(/usr/sbin/policy-rc.d; echo $?)" = 101 ] || { echo "services may start"; exit 1; }
      [ ! -e /run/apt-fails ] || { echo "E: Unable to locate package docker.io"; exit 100; }
      [ "$1" = update ] || { touch /usr/sbin/dockerd && mount --bind /run/host-sbin/dockerd /usr/sbin/dockerd; }
      """
    let hide = """
      set -e; mkdir -p /run/sbin/upper /run/sbin/work /run/host-sbin /run/apt-bin
      mount --bind /usr/sbin /run/host-sbin
      mount -t overlay -o lowerdir=/usr/sbin,upperdir=/run/sbin/upper,workdir=/run/sbin/work node-sbin /usr/sbin
      rm -f /usr/sbin/dockerd /usr/sbin/policy-rc.d
      printf '%s\\n' \(Shell.quote(aptGet)) > /run/apt-bin/apt-get; chmod +x /run/apt-bin/apt-get
      mount --bind /run/apt-bin /usr/local/sbin
      touch /run/apt-fails
      [ ! -e /usr/sbin/dockerd ] && echo hidden
      """
    #expect(try lab.ssh(ip(5), hide).stdoutText == "hidden\n")
    let failing = try piswarmUp()
    #expect(failing.status == 1)
    #expect(
      failing.stderrText.contains("apt-get install docker.io failed: E: Unable to locate package docker.io"),
      "\(failing.stderrText)")
    #expect(try lab.ssh(ip(5), "[ ! -e /usr/sbin/policy-rc.d ] && echo clean").stdoutText == "clean\n")
    #expect(try lab.ssh(ip(5), "rm /run/apt-fails && echo ok").stdoutText == "ok\n")
    let installed = try piswarmUp()
    #expect(installed.status == 0, "\(installed.stderrText)")
    #expect(installed.stderrText.contains("install docker.io"), "\(installed.stderrText)")
    let log = try lab.ssh(ip(5), "cat /var/log/apt-stand-in.log; [ ! -e /usr/sbin/policy-rc.d ] && echo clean").stdoutText
    #expect(log.contains("apt-get install -y -q docker.io") && log.contains("apt-get update -q") && log.hasSuffix("clean\n"))
    #expect(try lab.ssh(ip(5), "[ -x /usr/sbin/dockerd ] && umount /usr/local/sbin && echo ok").stdoutText == "ok\n")
    #expect(try ready() == "5 Ready")
    let again = try piswarmUp()
    #expect(again.status == 0 && !again.stderrText.contains("restart dockerd"), "\(again.stderrText)")
    #expect(!again.stderrText.contains("install docker.io") && !again.stderrText.contains("storage"), "\(again.stderrText)")

    // A step that fails once dockerd is stopped: dockerd comes back on its own storage (the grow
    // fails because a process holds the storage busy; the old size stays, the node keeps working)…
    let busy = "(cd \(DockerStorageLayout.store) && exec setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > /run/busy.pid)"
    #expect(try lab.ssh(ip(4), busy + " && echo busy").stdoutText == "busy\n")
    try write("loopfile:3G", "tmpfs:384M", docker: "docker:\n  log_max_size: 20m\n")
    let stuck = try piswarmUp()
    #expect(stuck.status == 1 && stuck.stderrText.contains("node04: failed"), "\(stuck.stderrText)")
    #expect(try lab.ssh(ip(4), "kill $(cat /run/busy.pid) && \(sizeOf)").stdoutText == "\(after)\n")
    #expect(try lab.ssh(ip(4), "findmnt -n -o SOURCE \(DockerStorageLayout.store)").stdoutText.hasPrefix("/dev/loop"))
    #expect(try lab.ssh(ip(4), "docker info --format '{{.Swarm.LocalNodeState}}'").stdoutText == "active\n")
    // … and never on the root filesystem when its storage cannot be mounted (a broken loopfile).
    let corrupt = """
      /etc/init.d/docker stop && umount /var/lib/containerd /var/lib/docker \(DockerStorageLayout.store) \
      && dd if=/dev/zero of=\(DockerStorageLayout.loopfile) bs=64k count=16 conv=notrunc 2>/dev/null && echo broken
      """
    #expect(try lab.ssh(ip(4), corrupt).stdoutText == "broken\n")
    let broken = try piswarmUp()
    #expect(broken.status == 1 && broken.stderrText.contains("node04: failed"), "\(broken.stderrText)")
    #expect(try lab.ssh(ip(4), "/etc/init.d/docker status || echo stopped").stdoutText == "stopped\n")
  }
}
