import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm root make|ls|ensure|rm` on loop-mounted filesystems the test makes and removes:
/// btrfs (snapshots) and ext4 (overlays). Cleanup runs in defer, even when a test fails: the
/// mounts below the test's NFS root are unmounted, then the filesystem, then the exact loop
/// device the test attached is detached. (Over 300 lines: its fixture, the loop-mounted
/// filesystem and its cleanup, is shared by every roots test and the roots interrupt test, and
/// belongs beside the suite that runs them one at a time.)
@Suite(.serialized, .enabled(if: Prerequisites.shouldRunImages)) struct RootsIntegrationTests {
  /// A loop-mounted filesystem made for one test.
  final class LoopFilesystem {
    let folder = TemporaryDirectory("piswarm-roots")
    var device: String?
    var mountPoint: String { folder.file("nfs") }

    init(type: String, megabytes: Int) throws {
      let image = folder.file("fs.img")
      try Command("truncate", ["-s", "\(megabytes)M", image]).check()
      let attached = try Command("losetup", ["--find", "--show", image]).check().stdoutText
      device = attached.trimmingCharacters(in: .whitespacesAndNewlines)
      guard let device else { return }
      try Command(type == "btrfs" ? "mkfs.btrfs" : "mkfs.ext4", ["-q", device]).check()
      try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
      try Command("mount", [device, mountPoint]).check()
    }

    /// Unmounts what lies below the mount point (the latest mount first: an overlay before
    /// its lower layer; retried, then lazily when busy), the filesystem itself, then detaches
    /// our loop device and any other loop device backed by a file of this test.
    func remove() {
      Cleanup.unmount(below: mountPoint)
      if let device { Cleanup.detach(loop: device) }
      Cleanup.detachLoops(below: folder.path)
      device = nil
    }

    /// `remove`, then records whatever of this test is still on the machine.
    func remove(checking fixture: Fixture) {
      remove()
      let left = Leftovers.waitForNone(paths: [folder.path, fixture.state.path, fixture.scratch.path])
      if !left.isEmpty { Issue.record("left behind: \(left)") }
    }

    deinit { remove() }
  }

  struct Fixture {
    let state = TemporaryDirectory("piswarm-roots-state")
    let scratch = TemporaryDirectory("piswarm-roots-scratch")
    var clusterFile: String { scratch.file("cluster.yml") }

    @discardableResult
    func piswarm(_ arguments: [String]) throws -> Command.Output {
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = state.path
      environment["PISWARM_FILE"] = clusterFile
      return try Command(TestBinary.piswarm(), arguments, environment: environment, timeout: 120).run()
    }

    /// Imports the test image as `test-os`, writes a key and a cluster file of three netboot
    /// nodes and one preinstalled one with their roots in `nfsRoot`.
    func prepare(nfsRoot: String) throws {
      let raw = scratch.file("disk.img")
      try TestImage.make(at: raw, scratch: scratch.file("parts"))
      let imported = try piswarm(["image", "import", raw, "--name", "test-os"])
      try #require(imported.status == 0, "\(imported.stderrText)")
      if !Files.exists(scratch.file("key")) {
        try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "cluster-key", "-f", scratch.file("key")]).check()
      }
      scratch.write(
        "cluster.yml",
        """
        name: rootstest
        head:
          interface: eth1
          address: 10.42.0.250/24
          nfs_root: \(nfsRoot)
        ssh:
          key: \(scratch.file("key"))
        defaults:
          image: test-os
        nodes:
          - name: node[01-03]
            ip: 10.42.0.1+
            mac: b8:27:eb:00:00:01+
          - name: nas
            ip: 10.42.0.20
            boot: preinstalled
            docker_storage: root

        """)
    }
  }

  struct Made: Decodable {
    var node: String
    var method: String
    var path: String
    var created: Bool
    var changed: [String]
    var hostKeyFingerprint: String
  }

  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }

  /// What every made root must show: its own identity, the base's identity gone, keys pinned,
  /// and writes that stay in the node's root.
  func verify(_ fixture: Fixture, nfsRoot: String, base: String, method: String) throws {
    let result = try fixture.piswarm(["root", "make", "--json"])
    try #require(result.status == 0, "\(result.stderrText)")
    #expect(result.stderrText.contains("making node roots in \(nfsRoot) by \(method)"), "\(result.stderrText)")
    let made = try JSONDecoder().decode([Made].self, from: result.stdout)
    #expect(made.map(\.node) == ["node01", "node02", "node03"], "netboot nodes only")
    #expect(made.allSatisfy { $0.method == method && $0.created })

    let knownHosts = read(fixture.state.file("known_hosts"))
    var machineIDs = Set<String>()
    var hostKeys = Set<String>()
    for (index, node) in made.enumerated() {
      let root = "\(nfsRoot)/\(node.node)"
      #expect(node.path == root)
      #expect(read(root + "/etc/hostname") == node.node + "\n")
      #expect(read(root + "/etc/hosts").contains("10.42.0.\(index + 1)\t\(node.node)\n"))
      #expect(read(root + "/etc/fstab").contains("10.42.0.250:\(root)\t/\tnfs\tdefaults,nfsvers=3,tcp"))
      #expect(read(root + "/root/.ssh/authorized_keys").contains(read(fixture.scratch.file("key.pub"))))
      #expect(read(root + "/etc/systemd/network/10-piswarm-eth0.network").contains("Unmanaged=yes"))
      let machineID = read(root + "/etc/machine-id")
      #expect(NodeIdentity.isMachineID(machineID), "\(machineID)")
      machineIDs.insert(machineID)
      // The base's host keys and D-Bus machine-id are gone; a fresh ed25519 key is there.
      #expect(!Files.exists(root + "/etc/ssh/ssh_host_rsa_key"))
      #expect(!Files.exists(root + "/var/lib/dbus/machine-id"))
      let publicKey = read(root + "/etc/ssh/ssh_host_ed25519_key.pub")
      #expect(publicKey.hasPrefix("ssh-ed25519 ") && publicKey.hasSuffix(" root@\(node.node)\n"), "\(publicKey)")
      hostKeys.insert(publicKey)
      let keyWords = publicKey.split(separator: " ").prefix(2).joined(separator: " ")
      #expect(knownHosts.contains("10.42.0.\(index + 1) \(keyWords)\n"), "\(knownHosts)")
      let fingerprint = try Command("ssh-keygen", ["-l", "-E", "sha256", "-f", root + "/etc/ssh/ssh_host_ed25519_key.pub"])
        .check().stdoutText
      #expect(fingerprint.contains(node.hostKeyFingerprint))
      #expect((try? FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/docker")) == [])
      var info = stat()
      #expect(stat(root + "/etc/ssh/ssh_host_ed25519_key", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }
    #expect(machineIDs.count == 3 && !machineIDs.contains(read(base + "/etc/machine-id")))
    #expect(hostKeys.count == 3)
    // The base still has its own identity.
    #expect(read(base + "/etc/hostname") == "raspberrypi\n")
    #expect(Files.exists(base + "/etc/ssh/ssh_host_rsa_key"))

    // A new file and an in-place change in node01 touch neither the base nor node02.
    try "only node01\n".write(toFile: nfsRoot + "/node01/etc/new-file", atomically: false, encoding: .utf8)
    let handle = try #require(FileHandle(forWritingAtPath: nfsRoot + "/node01/usr/share/doc/readme"))
    try handle.seek(toOffset: 0)
    try handle.write(contentsOf: Data("CHANGED".utf8))
    try handle.close()
    #expect(!Files.exists(base + "/etc/new-file"))
    #expect(!Files.exists(nfsRoot + "/node02/etc/new-file"))
    #expect(read(base + "/usr/share/doc/readme").hasPrefix("piswarm test image"))
    #expect(read(nfsRoot + "/node02/usr/share/doc/readme").hasPrefix("piswarm test image"))
    #expect(read(nfsRoot + "/node01/usr/share/doc/readme").hasPrefix("CHANGED"))

    // Again: every root exists, nothing is written, the same keys stay pinned.
    let again = try fixture.piswarm(["root", "make", "--json"])
    try #require(again.status == 0, "\(again.stderrText)")
    let second = try JSONDecoder().decode([Made].self, from: again.stdout)
    #expect(second.allSatisfy { !$0.created && $0.changed.isEmpty }, "\(again.stdoutText)")
    #expect(second.map(\.hostKeyFingerprint) == made.map(\.hostKeyFingerprint))
    #expect(read(fixture.state.file("known_hosts")) == knownHosts)
    #expect(read(nfsRoot + "/node01/etc/new-file") == "only node01\n")

    // A changed identity file is put back, and only that one.
    try "tampered\n".write(toFile: nfsRoot + "/node02/etc/hostname", atomically: false, encoding: .utf8)
    let third = try JSONDecoder().decode([Made].self, from: try fixture.piswarm(["root", "make", "node02", "--json"]).stdout)
    #expect(third.first?.changed == ["/etc/hostname"])
    #expect(read(nfsRoot + "/node02/etc/hostname") == "node02\n")

    let list = try fixture.piswarm(["root", "ls", "--json"])
    #expect(list.stdoutText.components(separatedBy: "\"ready\" : true").count == 4, "\(list.stdoutText)")
    // The image is in use.
    let refused = try fixture.piswarm(["image", "rm", "test-os"])
    #expect(refused.status == 64)
    #expect(refused.stderrText.contains("image test-os is used by the roots of node01, node02, node03"))
  }

  @Test func btrfsRootsAreSnapshots() throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    let filesystem = try LoopFilesystem(type: "btrfs", megabytes: 300)
    defer { filesystem.remove(checking: fixture) }
    let nfsRoot = filesystem.mountPoint
    try fixture.prepare(nfsRoot: nfsRoot)
    try verify(fixture, nfsRoot: nfsRoot, base: nfsRoot + "/.base/test-os", method: "snapshot")
    let subvolumes = try Command("btrfs", ["subvolume", "list", "-o", nfsRoot]).check().stdoutText
    for name in [".base/test-os", "node01", "node02", "node03"] { #expect(subvolumes.contains("path \(name)\n")) }
    let readOnly = try Command("btrfs", ["property", "get", "-ts", nfsRoot + "/.base/test-os", "ro"]).check().stdoutText
    #expect(readOnly == "ro=true\n")

    let removed = try fixture.piswarm(["root", "rm", "node01", "node02", "node03"])
    #expect(removed.status == 0, "\(removed.stderrText)")
    #expect(try Command("btrfs", ["subvolume", "list", "-o", nfsRoot]).check().stdoutText.isEmpty)
    #expect(try fixture.piswarm(["image", "rm", "test-os"]).status == 0)
  }

  @Test func ext4RootsAreOverlaysThatEnsureMountsAgain() throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    let filesystem = try LoopFilesystem(type: "ext4", megabytes: 200)
    defer { filesystem.remove(checking: fixture) }
    let nfsRoot = filesystem.mountPoint
    try fixture.prepare(nfsRoot: nfsRoot)
    try verify(fixture, nfsRoot: nfsRoot, base: nfsRoot + "/.lower/test-os", method: "overlay")
    let points = Mounts.points()
    for point in [".lower/test-os", "node01", "node02", "node03"] { #expect(points.contains("\(nfsRoot)/\(point)")) }
    // node01's writes are in its upper layer only.
    #expect(Files.exists(nfsRoot + "/.upper/node01/upper/etc/new-file"))

    // As after a restart of the head: nothing mounted. 'ensure' brings every mount back.
    for point in ["node01", "node02", "node03", ".lower/test-os"] {
      try Command("umount", ["\(nfsRoot)/\(point)"]).check()
    }
    #expect(try fixture.piswarm(["root", "ls"]).stdoutText.contains("no (run 'piswarm root ensure')"))
    let ensured = try fixture.piswarm(["root", "ensure"])
    #expect(ensured.status == 0, "\(ensured.stderrText)")
    #expect(ensured.stdoutText.split(separator: "\n").count == 4, "\(ensured.stdoutText)")
    #expect(read(nfsRoot + "/node01/etc/new-file") == "only node01\n")
    #expect(read(nfsRoot + "/node02/etc/hostname") == "node02\n")
    let quiet = try fixture.piswarm(["root", "ensure"])
    #expect(quiet.status == 0 && quiet.stdoutText.isEmpty, "\(quiet.stdoutText)")

    let removed = try fixture.piswarm(["root", "rm", "node01", "node02", "node03"])
    #expect(removed.status == 0, "\(removed.stderrText)")
    #expect(!Mounts.points().contains { $0.hasPrefix(nfsRoot + "/") })
    #expect(try FileManager.default.contentsOfDirectory(atPath: nfsRoot + "/.upper").isEmpty)
  }

  /// nfs-ganesha in a network and mount namespace of the test's own (with its own rpcbind on a
  /// private /run, so the host's rpcbind files are not touched), serving overlay roots by the
  /// rendered configuration; read back over NFSv3 (by the pseudo path) and NFSv4 with libnfs.
  @Test func overlayRootsAreServedByGanesha() throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    let filesystem = try LoopFilesystem(type: "ext4", megabytes: 200)
    defer { filesystem.remove(checking: fixture) }
    let nfsRoot = filesystem.mountPoint
    try fixture.prepare(nfsRoot: nfsRoot)
    let made = try fixture.piswarm(["root", "make"])
    try #require(made.status == 0, "\(made.stderrText)")

    let run = TemporaryDirectory("piswarm-ganesha")
    try FileManager.default.createDirectory(atPath: run.file("recovery"), withIntermediateDirectories: true)
    let loopback = try #require(IPv4Address("127.0.0.1"))
    let config = GaneshaRootExports(
      exports: ["node01", "node02"].map { .init(node: $0, client: loopback, path: "\(nfsRoot)/\($0)") },
      recoveryRoot: run.file("recovery"))
    run.write("ganesha.conf", config.render())
    // $1 is the run folder, $2 the NFS root; nothing of them is interpolated into the script.
    let script = """
      set -e
      mount -t tmpfs piswarm-test-run /run
      \(Cleanup.dropForeignMounts(keeping: "\"$2\""))
      ip link set lo up
      rpcbind -f & echo $! > "$1/rpcbind.pid"
      for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
      ganesha.nfsd -F -f "$1/ganesha.conf" -L "$1/ganesha.log" -p "$1/ganesha.pidfile" -N NIV_EVENT &
      echo $! > "$1/ganesha.pid"
      wait
      """
    let launcher = try Processes.spawnDetached(
      ["unshare", "--net", "--mount", "--propagation", "private", "--fork", "/bin/sh", "-c", script, "sh", run.path, nfsRoot],
      environment: ProcessInfo.processInfo.environment, log: run.file("launcher.log"))
    func pid(_ name: String) -> pid_t? {
      pid_t((run.read(name) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
    }
    defer {
      // By PID only: ganesha and rpcbind, then the launcher ends with them.
      let ours = [pid("ganesha.pid"), pid("rpcbind.pid")].compactMap { $0 }
      for process in ours { Processes.signal(process, SIGTERM) }
      for process in Processes.waitForExit(ours, timeout: 5) { Processes.signal(process, SIGKILL) }
      if !Processes.waitForExit([launcher], timeout: 5).isEmpty { Processes.signal(launcher, SIGKILL) }
      _ = Processes.waitForExit([launcher], timeout: 2)
    }
    func nfsCat(_ url: String) throws -> Command.Output {
      let ganesha = pid("ganesha.pid") ?? 0
      return try Command("nsenter", ["--net=/proc/\(ganesha)/ns/net", "nfs-cat", url], timeout: 10).run()
    }
    var served: Command.Output?
    for _ in 0..<100 {
      served = try nfsCat("nfs://127.0.0.1\(nfsRoot)/node01/etc/hostname?version=4")
      if served?.status == 0 { break }
      usleep(100_000)
    }
    #expect(served?.stdoutText == "node01\n", "\(served?.stderrText ?? "") \(run.read("ganesha.log") ?? "")")
    #expect(try nfsCat("nfs://127.0.0.1\(nfsRoot)/node02/etc/hostname?version=3").stdoutText == "node02\n")
    #expect(try nfsCat("nfs://127.0.0.1\(nfsRoot)/node02/etc/os-release?version=3").stdoutText.contains(TestImage.osRelease))
    // node03 is not exported.
    #expect(try nfsCat("nfs://127.0.0.1\(nfsRoot)/node03/etc/hostname?version=4").status != 0)
    // The host's rpcbind files were not touched.
    #expect(!Files.exists("/run/rpcbind.sock") || Processes.all().contains { Processes.name($0) == "rpcbind" })
  }

  @Test func anImpossibleMethodIsRefusedAndAMissingImageExplained() throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    let filesystem = try LoopFilesystem(type: "ext4", megabytes: 100)
    defer { filesystem.remove(checking: fixture) }
    try fixture.prepare(nfsRoot: filesystem.mountPoint)
    let snapshot = try fixture.piswarm(["root", "make", "--method", "snapshot"])
    #expect(snapshot.status == 64)
    #expect(snapshot.stderrText.contains("cannot make roots by snapshot in \(filesystem.mountPoint): snapshots need btrfs"))
    #expect(try fixture.piswarm(["image", "rm", "test-os"]).status == 0)
    let missing = try fixture.piswarm(["root", "make"])
    #expect(missing.status == 64)
    #expect(missing.stderrText.contains("image test-os (defaults.image) is not imported"), "\(missing.stderrText)")
    // A full copy works anywhere.
    try fixture.prepare(nfsRoot: filesystem.mountPoint)
    let copied = try fixture.piswarm(["root", "make", "node01", "--method", "copy"])
    #expect(copied.status == 0, "\(copied.stderrText)")
    #expect(read(filesystem.mountPoint + "/node01/etc/hostname") == "node01\n")
  }
}
