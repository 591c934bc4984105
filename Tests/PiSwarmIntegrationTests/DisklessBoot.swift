import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Diskless aarch64 VMs (QEMU `-M virt` under TCG) netbooted by piswarm: a `NetbootLab`
/// (head namespace and bridge), an image imported with `piswarm image import`, the node's root,
/// TFTP folder and configurations from `piswarm netboot apply`, nfs-ganesha and dnsmasq started
/// with piswarm's files, and QEMU cabled to the bridge by a tap. `stop()` (from the test's
/// defer) ends everything by PID and removes what was made. Used by the end-to-end tests with
/// the fixture's busybox root and with a real Debian root. `node`, `mac` and `ip` are the VM the
/// single-node tests boot; the journey (several VMs beside a lab's namespace nodes) names its
/// nodes where it asks.
final class DisklessBoot {
  let lab: NetbootLab
  let node: String
  let mac: String
  var ip: String
  var ganesha: pid_t?
  var qemu: pid_t?
  /// The serial console: QEMU's file, or the lab VM's (`labVM`).
  var console: String { labVM.map { lab.state + "/labs/\($0)/vms/\(node)/console.log" } ?? lab.dir.file("console.log") }
  /// The lab whose VM this node is, once `addLabVM` registered it (then piswarm's lab power
  /// driver starts and ends QEMU, not `startVM`).
  var labVM: String?
  /// The cluster's name, unique to the run: `up` writes the SSH alias
  /// /etc/ssh/ssh_config.d/piswarm-NAME.conf, which `stop()` removes (the docker context goes
  /// under the lab's folder, through DOCKER_CONFIG).
  var clusterName: String { "e2e-\(lab.id)" }
  var environment: [String: String] {
    [
      "PISWARM_STATE_DIR": lab.state, "PISWARM_FILE": lab.clusterFile, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
      "DOCKER_CONFIG": lab.dir.file("docker-config"),
    ]
  }

  init(mac: String, ip: String, node: String = "node01") throws {
    self.node = node
    self.mac = mac
    self.ip = ip
    lab = try NetbootLab()
  }

  /// The node's TFTP folder, named by its MAC.
  var tftpFolder: String { tftpFolder(mac) }
  func tftpFolder(_ mac: String) -> String { lab.tftpRoot + "/" + mac.replacingOccurrences(of: ":", with: "-") }

  /// A lab VM's serial console (`piswarm lab vm add` under lab `labVM`).
  func console(of node: String) -> String { lab.state + "/labs/\(labVM ?? "")/vms/\(node)/console.log" }

  /// cluster.yml for one Pi 4 netbooting `image`, its Docker storage a loop file, its power
  /// `power` (a flow mapping) when given; a new SSH key pair for the cluster.
  func writeCluster(image: String, power: String? = nil) throws {
    try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm-e2e", "-f", lab.dir.file("id_ed25519")]).check()
    lab.dir.write(
      "cluster.yml",
      """
      name: \(clusterName)
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
        image: \(image)
        docker_storage: loopfile:2G
      nodes:
        - name: \(node)
          mac: "\(mac)"
          ip: \(ip)
          model: pi4
      \(power.map { "    power: \($0)\n" } ?? "")
      """)
  }

  /// `piswarm image import FILE --name NAME`, then one `netboot apply` that makes the root
  /// (identity, pinned host key), the TFTP folder with cmdline.txt, dnsmasq's configuration and
  /// ganesha's. Returns the node's cmdline.txt.
  func importAndApply(image: String, name: String) throws -> String {
    try importImage(image, name: name)
    try applyNetboot()
    return try String(contentsOfFile: tftpFolder + "/cmdline.txt", encoding: .utf8)
  }

  /// `piswarm image import FILE --name NAME`.
  func importImage(_ image: String, name: String) throws {
    let imported = try lab.piswarm(["image", "import", image, "--name", name])
    try #require(imported.status == 0, "\(imported.stderrText)")
  }

  /// `piswarm netboot apply --files-only --roots`: every netboot node's root (identity, pinned
  /// host key) and TFTP folder, dnsmasq's and ganesha's configuration.
  func applyNetboot() throws {
    let applied = try lab.piswarm(["netboot", "apply", "--files-only", "--roots", "--dnsmasq-option", "no-ping"])
    try #require(applied.status == 0, "\(applied.stderrText)")
  }

  /// The VM's cable (a tap on the head's bridge), nfs-ganesha with piswarm's configuration
  /// (isolated: its own mount and PID namespaces, a private /run and rpcbind) and dnsmasq with
  /// piswarm's.
  func startHead() throws {
    try lab.ip(["-n", lab.head, "tuntap", "add", "dev", "tap0", "mode", "tap"])
    try lab.ip(["-n", lab.head, "link", "set", "tap0", "master", "br0", "up"])
    try startServices()
  }

  /// nfs-ganesha and dnsmasq in the head's namespace, with the files piswarm rendered.
  /// `dnsmasqOptions`: the test's own on top of them.
  func startServices(dnsmasqOptions: [String] = []) throws {
    ganesha = try Self.startGanesha(lab)
    try lab.startHeadDnsmasq(dnsmasqOptions)
  }

  /// QEMU with `kernel` and `initrd`, the node's command line as rendered and QEMU's serial
  /// console last (the last console= wins). `extra` goes before the network device.
  func startVM(kernel: String, initrd: String, cmdline: String, memoryMiB: Int, extra: [String] = []) throws {
    let pid = try Processes.spawnDetached(
      [
        "nsenter", "--net=/run/netns/\(lab.head)", "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "1",
        "-m", "\(memoryMiB)", "-display", "none", "-monitor", "none", "-serial", "file:\(console)", "-no-reboot",
        "-kernel", kernel, "-initrd", initrd,
        "-append", cmdline.trimmingCharacters(in: .whitespacesAndNewlines) + " console=ttyAMA0",
      ] + extra + [
        "-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no",
        "-device", "virtio-net-pci,netdev=net0,mac=\(mac),romfile=",
      ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: lab.dir.file("qemu.out"))
    qemu = pid
    lab.pids.append(pid)
  }

  /// Registers the node as a VM of lab `name` (`piswarm lab vm add`, cabled to the head's
  /// bridge), powered off; the cluster file must give the node `power: { driver: lab, lab: NAME }`.
  /// `node` and `mac` default to this boot's VM; cabled to the head's bridge, or with
  /// `labSwitch` to the lab's own switch (beside the lab's namespace nodes).
  func addLabVM(
    lab name: String, kernel: String, initrd: String, memoryMiB: Int, node: String? = nil, mac: String? = nil,
    labSwitch: Bool = false
  ) throws {
    let mac = mac ?? self.mac
    let added = try piswarm(
      [
        "lab", "vm", "add", node ?? self.node, "--name", name, "--mac", mac, "--kernel", kernel, "--initrd", initrd,
        "--cmdline-file", tftpFolder(mac) + "/cmdline.txt", "--memory", "\(memoryMiB)",
      ] + (labSwitch ? [] : ["--netns", lab.head, "--bridge", "br0"]))
    try #require(added.status == 0, "lab vm add: \(added.stderrText)")
    labVM = name
  }

  struct LabVMEntry: Decodable {
    var name: String
    var running: Bool
    var state: String?
    var pid: Int32?
  }

  /// The lab VM as `piswarm lab vm ls --json` reports it.
  func labVMEntry() throws -> LabVMEntry {
    let listed = try piswarm(["lab", "vm", "ls", "--name", labVM ?? "", "--json"])
    let entries = try JSONDecoder().decode([LabVMEntry].self, from: Data(listed.stdoutText.utf8))
    return try #require(entries.first { $0.name == node }, "\(listed.stdoutText)")
  }

  /// `piswarm power VERB NODE` (on, cycle: without waiting, so that `waitForSSH` watches the
  /// console); then `qemu` is the VM's new QEMU.
  func power(_ verb: String, _ extra: [String] = []) throws -> Command.Output {
    let output = try piswarm(["power", verb, node] + extra, timeout: 180)
    if labVM != nil, verb != "status" { qemu = try labVMEntry().pid }
    return output
  }

  /// The node's power state from `piswarm power status --json`.
  func powerState() throws -> String? {
    struct Row: Decodable { var state: String? }
    let output = try piswarm(["power", "status", node, "--json"])
    return try JSONDecoder().decode([Row].self, from: Data(output.stdoutText.utf8)).first?.state
  }

  /// `piswarm lab down` for the lab VM's lab: QEMU ended by PID, its tap and record gone.
  func removeLabVM() {
    guard let name = labVM else { return }
    let down = try? piswarm(["lab", "down", "--name", name])
    #expect(down?.status == 0, "lab down: \(down?.stderrText ?? "")")
    #expect(
      Processes.all().filter { Processes.commandLine($0).contains { $0.contains("/labs/\(name)/vms/") } }.isEmpty,
      "a QEMU of lab \(name) outlived lab down")
    qemu = nil
  }

  func consoleText() -> String { (try? String(contentsOfFile: console, encoding: .utf8)) ?? "" }

  /// `piswarm exec NODE -- COMMAND…` from the head's side of the network: piswarm's own SSH,
  /// with the key it pinned (StrictHostKeyChecking=yes, no --trust-new).
  func exec(_ command: [String], connectTimeout: Int = 10, timeout: Double = 60) throws -> Command.Output {
    try piswarm(["exec", node, "--connect-timeout", "\(connectTimeout)", "--"] + command, timeout: timeout)
  }

  /// `piswarm ARGUMENTS…` in the head's network namespace, with the lab's state and cluster file.
  func piswarm(_ arguments: [String], timeout: Double = 60) throws -> Command.Output {
    try Command(
      "nsenter", ["--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary] + arguments, environment: environment,
      timeout: timeout
    ).run()
  }

  /// Polls `piswarm exec … COMMAND` until it succeeds (within `timeout` seconds), failing early
  /// when the initramfs reports a failure or QEMU exits. Returns the output and the seconds.
  func waitForSSH(_ command: [String], timeout: Double) throws -> (Command.Output, Double) {
    let started = Date()
    while Date().timeIntervalSince(started) < timeout {
      let output = try Command(
        "nsenter",
        [
          "--net=/run/netns/\(lab.head)", NetbootLab.piswarmBinary, "exec", node, "--connect-timeout", "2", "--retries", "0",
          "--",
        ]
          + command, environment: environment, timeout: 30
      ).run()
      if output.status == 0 { return (output, Date().timeIntervalSince(started)) }
      let log = consoleText()
      try #require(!log.contains("piswarm-initramfs: FAILED"), "the VM could not mount its root:\n\(log.suffix(3000))")
      try #require(qemu.map(Processes.isAlive) == true, "QEMU exited:\n\(log.suffix(3000))")
      usleep(500_000)
    }
    throw TestFailure("no SSH after \(Int(timeout)) s:\n\(consoleText().suffix(3000))")
  }

  /// Ends QEMU and ganesha, unmounts the node's overlay root and the image's lower layer, and
  /// removes the lab; records what was left behind.
  func stop() {
    removeLabVM()
    stopRestartedDnsmasq()
    // The head's registry instances an `up` with stacks: or registry: started, by their PIDs.
    LabIntegrationTests.Lab.stopHeadRegistry(state: lab.state)
    unlink("/etc/ssh/ssh_config.d/piswarm-\(clusterName).conf")
    if let ganesha { Self.stopNamespaceInit(ganesha) }
    if let qemu {
      Processes.signal(qemu, SIGTERM)
      _ = Processes.waitForExit([qemu], timeout: 5)
    }
    // The SSH alias `up` writes for the cluster's docker context, when it is this run's.
    let alias = "/etc/ssh/ssh_config.d/piswarm-e2e.conf"
    if Files.readWhole(alias)?.contains(lab.dir.path + "/") == true { unlink(alias) }
    // Deepest first (loop devices clear themselves on unmount), before cleanUp removes the folder.
    Cleanup.unmount(below: lab.dir.path)
    lab.cleanUp()
    #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    #expect(!Files.exists("/etc/ssh/ssh_config.d/piswarm-\(clusterName).conf"))
    #expect(Mounts.points().filter { $0.hasPrefix(lab.dir.path + "/") }.isEmpty)
  }

  /// nfs-ganesha and a private rpcbind in the head's network namespace, in mount and PID
  /// namespaces of their own (a tmpfs over /run and /var/lib/nfs), so that nothing is shared
  /// with the host's or another test's rpcbind. Returns unshare's PID; waits for port 2049.
  /// SIGHUP to the namespace's PID 1 (`restartGaneshaScript`) restarts ganesha.
  ///
  /// `followingMounts`: roots mounted after ganesha started (an upgrade's new generations) are
  /// seen by it too: the lab's folder becomes a shared mount (an rbind onto itself, removed with
  /// the folder's other mounts) and ganesha's mount namespace its slave. Without it, the
  /// namespace's view is fixed when ganesha starts (the host's mounts are private here).
  static func startGanesha(_ lab: NetbootLab, followingMounts: Bool = false) throws -> pid_t {
    if followingMounts {
      try Command("mount", ["--rbind", lab.dir.path, lab.dir.path]).check()
      try Command("mount", ["--make-rshared", lab.dir.path]).check()
    }
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
      start() { ganesha.nfsd -F -f "$1" -L "$3" -p /run/ganesha/ganesha.pid & ganesha=$!; }
      start "$@"
      trap 'kill -TERM "$ganesha" 2>/dev/null; wait "$ganesha"; kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM
      # SIGHUP restarts ganesha (a test's head.nfs_reload: ganesha's own SIGHUP cannot move an
      # export to another path).
      # (A wait interrupted by a signal fails: not an error here.)
      trap 'kill -TERM "$ganesha" 2>/dev/null; wait "$ganesha" || true; start "$@"' HUP
      while :; do wait || true; sleep 0.1; done

      """)
    chmod(script, 0o755)
    let pid = try Processes.spawnDetached(
      [
        "nsenter", "--net=/run/netns/\(lab.head)", "unshare", "--mount", "--propagation", followingMounts ? "slave" : "private",
        "--pid", "--fork",
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

  /// A script for `head.nfs_reload`: restarts the ganesha of `startGanesha` (SIGHUP to its
  /// namespace's PID 1) and returns once the new one has started (one more "NFS SERVER
  /// INITIALIZED" in its log), or fails after 60 s.
  static func restartGaneshaScript(_ lab: NetbootLab, unshare: pid_t) throws -> String {
    let children = (try? String(contentsOfFile: "/proc/\(unshare)/task/\(unshare)/children", encoding: .utf8)) ?? ""
    let initPID = try #require(children.split(separator: " ").first.flatMap { pid_t($0) }, "ganesha's namespace has no PID 1")
    let log = lab.dir.file("ganesha.log")
    lab.dir.write(
      "ganesha-restart.sh",
      """
      #!/bin/sh
      # head.nfs_reload of the end-to-end tests: ganesha restarted with piswarm's new exports.
      set -u
      count() { grep -c 'NFS SERVER INITIALIZED' '\(log)' || true; }
      before=$(count)
      kill -HUP \(initPID)
      for _ in $(seq 1 120); do
        [ "$(count)" -gt "$before" ] && exit 0
        sleep 0.5
      done
      echo "ganesha did not start again within 60 s (see \(log))" >&2
      exit 1

      """)
    let script = lab.dir.file("ganesha-restart.sh")
    chmod(script, 0o755)
    return script
  }

  /// Where the dnsmasq of `dnsmasqRestartScript` writes its PID.
  var dnsmasqPIDFile: String { lab.dir.file("dnsmasq.pid") }

  /// A script for `head.dnsmasq_restart`: ends the dnsmasq it started before (by the PID in
  /// `dnsmasqPIDFile`), then starts dnsmasq in the head's namespace with the configuration
  /// piswarm names (`PISWARM_DNSMASQ_CONF`) and `extra`; dnsmasq returns once it runs, or fails
  /// with why. `stop()` ends the last one, by its PID.
  func dnsmasqRestartScript(extra: [String]) -> String {
    let pidFile = dnsmasqPIDFile
    lab.dir.write(
      "dnsmasq-restart.sh",
      """
      #!/bin/sh
      # head.dnsmasq_restart of the end-to-end tests: the head's dnsmasq (re)started with
      # piswarm's configuration.
      set -eu
      if [ -s '\(pidFile)' ]; then
        pid=$(cat '\(pidFile)')
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      exec nsenter --net=/run/netns/\(lab.head) dnsmasq --pid-file='\(pidFile)' --conf-file="$PISWARM_DNSMASQ_CONF" \(extra.joined(separator: " ")) \\
        </dev/null >>'\(lab.dir.file("dnsmasq-restart.out"))' 2>&1

      """)
    let script = lab.dir.file("dnsmasq-restart.sh")
    chmod(script, 0o755)
    return script
  }

  /// Ends the dnsmasq `dnsmasqRestartScript` started last, by its PID (when it is dnsmasq).
  func stopRestartedDnsmasq() {
    guard let text = Files.readWhole(dnsmasqPIDFile), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
      Files.readWhole("/proc/\(pid)/comm")?.hasPrefix("dnsmasq") == true
    else { return }
    Processes.signal(pid, SIGTERM)
    if !Processes.waitForExit([pid], timeout: 5).isEmpty { Processes.signal(pid, SIGKILL) }
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

/// When each of a set of lines first appeared on a VM's serial console, by the head's clock:
/// a thread reads the console file every 50 ms until `stop()`.
final class ConsoleClock: Sendable {
  let file: String
  let markers: [String]
  let started = Date()
  let seen = Mutex<[String: Double]>([:])
  let running = Mutex(true)
  /// When the console file was first there (QEMU started), in seconds from the clock's start.
  let appeared = Mutex<Double?>(nil)

  init(file: String, markers: [String]) {
    self.file = file
    self.markers = markers
    Thread.detachNewThread { [self] in
      while running.withLock({ $0 }) {
        poll()
        usleep(50_000)
      }
    }
  }

  func poll() {
    let read = try? String(contentsOfFile: file, encoding: .utf8)
    let now = Date().timeIntervalSince(started)
    if read != nil { appeared.withLock { $0 = $0 ?? now } }
    let text = read ?? ""
    seen.withLock { seen in
      for marker in markers where seen[marker] == nil && text.contains(marker) { seen[marker] = now }
    }
  }

  /// The clock's time at which QEMU started (its console file appeared); nil if not yet.
  var qemuStarted: Double? { appeared.withLock { $0 } }

  /// Seconds from the clock's start to `marker`'s first appearance; nil if not seen yet.
  func time(_ marker: String) -> Double? { seen.withLock { $0[marker] } }

  func stop() {
    poll()
    running.withLock { $0 = false }
  }
}
