import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSystem
import PiSwarmTestSupport
import Synchronization
import Testing

/// Records restarts instead of making them.
final class FakeServices: ServiceControl {
  let restarts = Mutex<[String]>([])
  let failing = Mutex(false)
  let reason: String?

  let exportsFile: String?
  let reloads = Mutex(0)

  let ganeshaFile: String?

  init(unavailable reason: String? = nil, exportsFile: String? = nil, ganeshaFile: String? = nil) {
    self.reason = reason
    self.exportsFile = exportsFile
    self.ganeshaFile = ganeshaFile
  }

  var ganeshaMainConfig: String? { ganeshaFile }

  var kernelExportsFile: String? { exportsFile }
  func reloadExports() throws(PiSwarmError) { reloads.withLock { $0 += 1 } }

  var unavailableReason: String? { reason }
  func restart(_ service: String) throws(PiSwarmError) {
    if failing.withLock({ $0 }) { throw PiSwarmError(.system, "systemctl restart \(service) failed with status 5") }
    restarts.withLock { $0.append(service) }
  }
  var restarted: [String] { restarts.withLock { $0 } }

  let commands = Mutex<[(argv: [String], environment: [String: String])]>([])
  func runReloadCommand(_ argv: [String], environment: [String: String]) throws(PiSwarmError) {
    if failing.withLock({ $0 }) { throw PiSwarmError(.system, "\(argv[0]) exited with status 1") }
    commands.withLock { $0.append((argv, environment)) }
  }
  var ran: [[String]] { commands.withLock { $0.map(\.argv) } }
}

@Suite struct NetbootApplyTests {
  struct Setup {
    let dir = TemporaryDirectory("piswarm-netboot-unit")
    var paths: NetbootPaths { NetbootPaths(stateDirectory: dir.file("state")) }
    var tftp: String { dir.file("tftp") }

    init() {
      try? FileManager.default.createDirectory(atPath: dir.file("fw/overlays"), withIntermediateDirectories: true)
      for name in ["start4.elf", "fixup4.dat", "kernel8.img", "cmdline.txt"] { dir.write("fw/\(name)", "fw \(name)\n") }
    }

    func cluster(_ nodes: String, lan: String = "dhcp", extraHead: String = "") throws -> Cluster {
      let decoded = ClusterFile.decode(
        text: """
          name: unit
          head:
            interface: eth1
            address: 10.9.0.1/24
            lan: \(lan)
            tftp_root: \(tftp)
            nfs_root: /srv/nfs
            dnsmasq_conf: \(dir.file("etc/dnsmasq.d/piswarm.conf"))
            \(extraHead)
          nodes:
          \(nodes)
          """)
      return try #require(decoded.cluster, "\(decoded.diagnostics)")
    }

    /// A kernel NFS server's exports file (its folder made), and services that have it.
    func kernelNFS() throws -> (file: String, services: FakeServices) {
      try FileManager.default.createDirectory(atPath: dir.file("etc/exports.d"), withIntermediateDirectories: true)
      let file = dir.file("etc/exports.d/piswarm.exports")
      return (file, FakeServices(exportsFile: file))
    }

    func apply(_ cluster: Cluster, filesOnly: Bool = false, services: FakeServices) throws -> NetbootApply.Result {
      try NetbootApply.run(
        cluster, paths: paths,
        options: .init(filesOnly: filesOnly, firmwareDirectory: dir.file("fw"), dnsmasqExtra: []),
        services: services)
    }
  }

  static let twoNodes = """
      - { name: node01, ip: 10.9.0.11, mac: "b8:27:eb:00:00:01", serial: 1a2b3c4d }
      - { name: node02, ip: 10.9.0.12, mac: "b8:27:eb:00:00:02" }
    """

  @Test func writesOnceRestartsOnlyOnChangeAndRemovesOnlyItsOwnFolders() throws {
    let setup = Setup()
    let services = FakeServices()
    let first = try setup.apply(try setup.cluster(Self.twoNodes), services: services)
    #expect(first.dnsmasqChanged && first.dnsmasq == "restarted")
    #expect(services.restarted == ["dnsmasq"])
    #expect(first.warnings.isEmpty, "\(first.warnings)")
    let folder = setup.tftp + "/b8-27-eb-00-00-01"
    // The firmware file hard-linked (one filesystem), the overlays folder symbolically.
    #expect(try BootTreeLinkTests.sameFile(folder + "/start4.elf", setup.dir.file("fw/start4.elf")))
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/overlays") == setup.dir.file("fw/overlays"))
    // The node's own cmdline.txt, a real file, not the image's.
    #expect(setup.dir.read("tftp/b8-27-eb-00-00-01/cmdline.txt")?.contains("nfsroot=10.9.0.1:/srv/nfs/node01,") == true)
    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/cmdline.txt")) == nil)
    let mode = try FileManager.default.attributesOfItem(atPath: folder + "/config.txt")[.posixPermissions] as? Int
    #expect(mode == 0o644)
    #expect(Files.exists(setup.paths.hookScript) && Files.exists(setup.paths.exports) && Files.exists(setup.paths.ganesha))

    // Again: nothing written, nothing restarted.
    let snapshot = setup.dir.snapshot()
    let second = try setup.apply(try setup.cluster(Self.twoNodes), services: services)
    #expect(second.changes.isEmpty, "\(second.changes)")
    #expect(second.dnsmasq == "unchanged")
    #expect(services.restarted == ["dnsmasq"])
    #expect(setup.dir.snapshot() == snapshot)

    // Someone else's folder in the TFTP root is left alone (and warned about); node02's goes.
    try FileManager.default.createDirectory(atPath: setup.tftp + "/other", withIntermediateDirectories: true)
    setup.dir.write("tftp/b8-27-eb-00-00-01/stale.txt", "old\n")
    let third = try setup.apply(
      try setup.cluster("  - { name: node01, ip: 10.9.0.11, mac: \"b8:27:eb:00:00:01\", serial: 1a2b3c4d }"), services: services)
    #expect(
      Set(third.changes.filter { $0.action == .removed }.map(\.path)) == [
        setup.tftp + "/b8-27-eb-00-00-02", folder + "/stale.txt",
      ])
    #expect(Files.exists(setup.tftp + "/other"))
    #expect(third.warnings.contains { $0.contains("\(setup.tftp)/other is in the TFTP root") })
    #expect(services.restarted == ["dnsmasq", "dnsmasq"])
  }

  @Test func aKernelNFSServerGetsTheExportsAndIsReloadedOnlyOnChange() throws {
    let setup = Setup()
    let (exportsFile, services) = try setup.kernelNFS()
    let cluster = try setup.cluster(Self.twoNodes)
    // --files-only writes nothing outside the cluster file's paths and the state directory.
    let first = try setup.apply(cluster, filesOnly: true, services: services)
    #expect(first.exports == "not written (--files-only)")
    #expect(!Files.exists(exportsFile))
    #expect(services.reloads.withLock { $0 } == 0)
    #expect(try setup.apply(cluster, services: services).exports == "reloaded")
    #expect(setup.dir.read("etc/exports.d/piswarm.exports")?.contains("/srv/nfs/node02 10.9.0.12(rw,") == true)
    #expect(try setup.apply(cluster, services: services).exports == "unchanged")
    #expect(services.reloads.withLock { $0 } == 1)
    #expect(try setup.apply(cluster, services: FakeServices()).exports.hasPrefix("no kernel NFS server"))
  }

  @Test func aGaneshaServiceGetsTheExportsOrIsToldHowToIncludeThem() throws {
    let setup = Setup()
    try FileManager.default.createDirectory(atPath: setup.dir.file("etc/ganesha"), withIntermediateDirectories: true)
    let main = setup.dir.file("etc/ganesha/ganesha.conf")
    let services = FakeServices(ganeshaFile: main)
    let cluster = try setup.cluster(Self.twoNodes)
    #expect(try setup.apply(cluster, filesOnly: true, services: services).warnings.isEmpty)
    #expect(!Files.exists(main), "--files-only leaves the system's ganesha alone")
    // No main file yet: piswarm's is the main file, and ganesha restarts once.
    #expect(try setup.apply(cluster, services: services).exports == "ganesha: restarted")
    #expect(setup.dir.read("etc/ganesha/ganesha.conf")?.hasPrefix(GaneshaRootExports.header) == true)
    #expect(try setup.apply(cluster, services: services).exports == "ganesha: unchanged")
    #expect(services.restarted.filter { $0 == "nfs-ganesha" }.count == 1)
    // The user's own main file is never overwritten: apply says what to add.
    setup.dir.write("etc/ganesha/ganesha.conf", "EXPORT { Export_Id = 77; Path = /data; }\n")
    let own = try setup.apply(cluster, services: FakeServices(ganeshaFile: main))
    #expect(own.warnings.contains { $0.contains("%include \"\(setup.paths.ganesha)\"") }, "\(own.warnings)")
    #expect(setup.dir.read("etc/ganesha/ganesha.conf") == "EXPORT { Export_Id = 77; Path = /data; }\n")
    // With the include line, a change made by a --files-only run is still owed a restart.
    setup.dir.write("etc/ganesha/ganesha.conf", "%include \"\(setup.paths.ganesha)\"\n")
    let included = FakeServices(ganeshaFile: main)
    _ = try setup.apply(cluster, services: included)
    let grown = try setup.cluster(Self.twoNodes + "\n  - { name: node03, ip: 10.9.0.13, mac: \"b8:27:eb:00:00:03\" }")
    _ = try setup.apply(grown, filesOnly: true, services: included)
    #expect(try setup.apply(grown, services: included).exports == "ganesha: restarted")
  }

  /// head.nfs_reload: the user's NFS server, piswarm's files only, the command run once per
  /// change (with where the files are), owed across runs until it succeeds.
  @Test func theNFSReloadCommandRunsWhenTheExportsChangeInPlaceOfTheServices() throws {
    let setup = Setup()
    let (kernelFile, _) = try setup.kernelNFS()
    let main = setup.dir.file("etc/ganesha/ganesha.conf")
    let services = FakeServices(exportsFile: kernelFile, ganeshaFile: main)
    let reload = "nfs_reload: [/usr/local/sbin/ganesha-restart, --now]"
    let one = try setup.cluster("  - { name: node01, ip: 10.9.0.11, mac: \"b8:27:eb:00:00:01\" }", extraHead: reload)
    // --files-only writes the files and runs nothing: the command is owed.
    #expect(try setup.apply(one, filesOnly: true, services: services).exports == "head.nfs_reload: not run (--files-only)")
    #expect(services.ran.isEmpty && Files.exists(setup.paths.nfsReloadPending))
    let first = try setup.apply(one, services: services)
    #expect(first.exports == "head.nfs_reload: run")
    #expect(services.ran == [["/usr/local/sbin/ganesha-restart", "--now"]])
    let environment = services.commands.withLock { $0.first?.environment } ?? [:]
    #expect(environment == ["PISWARM_EXPORTS": setup.paths.exports, "PISWARM_GANESHA_CONF": setup.paths.ganesha])
    // Neither the kernel server's file nor ganesha's main file: the command's owner runs them.
    #expect(!Files.exists(kernelFile) && !Files.exists(main))
    #expect(services.restarted == ["dnsmasq"] && services.reloads.withLock { $0 } == 0)
    #expect(!Files.exists(setup.paths.nfsReloadPending))
    // Unchanged: not run again.
    #expect(try setup.apply(one, services: services).exports == "head.nfs_reload: not needed (the exports are unchanged)")
    #expect(services.ran.count == 1)
    // A node more: its export changes the files; a failing command keeps it owed, named.
    let two = try setup.cluster(Self.twoNodes, extraHead: reload)
    services.failing.withLock { $0 = true }
    #expect {
      try setup.apply(two, services: services)
    } throws: { error in
      "\(error)".contains(
        "head.nfs_reload (/usr/local/sbin/ganesha-restart --now) failed: /usr/local/sbin/ganesha-restart exited")
    }
    #expect(Files.exists(setup.paths.nfsReloadPending))
    services.failing.withLock { $0 = false }
    // up defers it to an action of its own.
    var options = NetbootApply.Options(
      filesOnly: false, firmwareDirectory: setup.dir.file("fw"), dnsmasqExtra: [])
    options.deferRestarts = true
    let deferred = try NetbootApply.run(two, paths: setup.paths, options: options, services: services)
    #expect(deferred.owed.contains(.nfsReload) && services.ran.count == 1)
    try NetbootApply.restart(.nfsReload, paths: setup.paths, services: services, head: two.head)
    #expect(services.ran.count == 2 && !Files.exists(setup.paths.nfsReloadPending))
  }

  /// head.dnsmasq_restart: the user's command in place of systemd's restart, also where
  /// systemd cannot restart anything here; with the configuration's path; a failure names it
  /// and keeps the restart owed.
  @Test func theDnsmasqRestartCommandRunsInPlaceOfSystemd() throws {
    let setup = Setup()
    let services = FakeServices(unavailable: "systemd is not running")
    let restart = "dnsmasq_restart: [/usr/local/sbin/dnsmasq-again, --now]"
    let one = try setup.cluster("  - { name: node01, ip: 10.9.0.11, mac: \"b8:27:eb:00:00:01\" }", extraHead: restart)
    let first = try setup.apply(one, services: services)
    #expect(first.dnsmasq == "restarted (head.dnsmasq_restart)", "\(first.warnings)")
    #expect(services.ran == [["/usr/local/sbin/dnsmasq-again", "--now"]] && services.restarted.isEmpty)
    let environment = services.commands.withLock { $0.first?.environment } ?? [:]
    #expect(environment == ["PISWARM_DNSMASQ_CONF": one.head.dnsmasqConf])
    #expect(!Files.exists(setup.paths.restartPending))
    #expect(try setup.apply(one, services: services).dnsmasq == "unchanged" && services.ran.count == 1)
    let two = try setup.cluster(Self.twoNodes, extraHead: restart)
    services.failing.withLock { $0 = true }
    #expect {
      try setup.apply(two, services: services)
    } throws: { error in
      "\(error)".contains("head.dnsmasq_restart (/usr/local/sbin/dnsmasq-again --now) failed")
    }
    #expect(Files.exists(setup.paths.restartPending))
    services.failing.withLock { $0 = false }
    #expect(try setup.apply(two, services: services).dnsmasq == "restarted (head.dnsmasq_restart)")
    #expect(services.ran.count == 2)
  }

  @Test func movingTheTFTPRootTakesPiswarmsFoldersAlong() throws {
    let setup = Setup()
    let cluster = try setup.cluster(Self.twoNodes)
    _ = try setup.apply(cluster, filesOnly: true, services: FakeServices())
    try FileManager.default.createDirectory(atPath: setup.tftp + "/keep", withIntermediateDirectories: true)
    var moved = cluster
    moved.head.tftpRoot = setup.dir.file("tftp2")
    let result = try setup.apply(moved, filesOnly: true, services: FakeServices())
    #expect(result.changes.filter { $0.action == .removed }.count == 3)
    #expect(try FileManager.default.contentsOfDirectory(atPath: setup.tftp) == ["keep"])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: setup.dir.file("tftp2")).sorted() == [
        "1a2b3c4d", "b8-27-eb-00-00-01", "b8-27-eb-00-00-02",
      ])
  }

  @Test func filesOnlyRestartsNothingAndNoSystemdSaysSo() throws {
    let setup = Setup()
    let services = FakeServices()
    let result = try setup.apply(try setup.cluster(Self.twoNodes), filesOnly: true, services: services)
    #expect(result.dnsmasq == "not restarted (--files-only)")
    #expect(services.restarted.isEmpty)
    let other = Setup()
    let noSystemd = FakeServices(unavailable: "systemd is not running here")
    let plain = try other.apply(try other.cluster(Self.twoNodes), services: noSystemd)
    #expect(plain.dnsmasq == "not restarted: systemd is not running here")
    #expect(plain.warnings.contains { $0.contains("restart dnsmasq yourself") })
  }

  @Test func imageFirmwareIsPublishedWorldReadableBesideTheTFTPRoot() throws {
    let setup = Setup()
    let store = setup.dir.file("state/images/raspios/boot")
    try FileManager.default.createDirectory(atPath: store + "/overlays", withIntermediateDirectories: true)
    setup.dir.write("state/images/raspios/boot/start4.elf", "start4\n")
    setup.dir.write("state/images/raspios/boot/overlays/disable-bt.dtbo", "dtbo\n")
    chmod(setup.dir.file("state"), 0o700)
    chmod(store + "/start4.elf", 0o600)
    var cluster = try setup.cluster(Self.twoNodes)
    cluster.defaults.image = "raspios"
    let apply = { (dryRun: Bool) throws -> NetbootApply.Result in
      var options = NetbootApply.Options(filesOnly: true, firmwareDirectory: nil, dnsmasqExtra: [])
      options.dryRun = dryRun
      return try NetbootApply.run(cluster, paths: setup.paths, options: options, services: FakeServices())
    }
    let first = try apply(false)
    let published = setup.dir.file("firmware/raspios")
    #expect(first.warnings.isEmpty, "\(first.warnings)")
    // The node folders hard-link the published file, which is the store's (one filesystem).
    #expect(try BootTreeLinkTests.sameFile(setup.tftp + "/b8-27-eb-00-00-01/start4.elf", published + "/start4.elf"))
    #expect(BootTreeApplier.unreadableByOthers(published + "/start4.elf") == nil)
    #expect(BootTreeApplier.unreadableByOthers(published + "/overlays/disable-bt.dtbo") == nil)
    // One filesystem: a hard link, no copy.
    let a = try FileManager.default.attributesOfItem(atPath: store + "/start4.elf")[.systemFileNumber] as? Int
    let b = try FileManager.default.attributesOfItem(atPath: published + "/start4.elf")[.systemFileNumber] as? Int
    #expect(a != nil && a == b)

    #expect(try apply(false).changes.isEmpty)
    // A new import replaces the file (a new inode): the published one follows, and the node
    // folders' hard links to it; a dry run says so too.
    try AtomicFile.write("start4 v2\n", to: store + "/start4.elf")
    let renewed =
      [FileChange(published + "/start4.elf", .updated)]
      + BootTreeLinkTests.folders.map { FileChange(setup.tftp + "/\($0)/start4.elf", .linked) }
    let dry = try apply(true).changes
    #expect(Set(dry) == Set(renewed))
    #expect(try apply(false).changes == dry)
    #expect(setup.dir.read("firmware/raspios/start4.elf") == "start4 v2\n")
    #expect(setup.dir.read("tftp/1a2b3c4d/start4.elf") == "start4 v2\n")

    // Another image: the old one's published copy goes; a folder piswarm did not publish stays.
    try FileManager.default.createDirectory(atPath: setup.dir.file("firmware/mine"), withIntermediateDirectories: true)
    cluster.defaults.image = "other"
    let switched = try apply(false)
    #expect(switched.changes.contains(FileChange(published, .removed)))
    #expect(switched.warnings.contains { $0.contains("no firmware at \(setup.dir.file("state/images/other/boot"))") })
    #expect(Files.exists(setup.dir.file("firmware/mine")))
  }

  @Test func aRestartOwedIsMadeByTheNextApply() throws {
    let setup = Setup()
    let services = FakeServices()
    let cluster = try setup.cluster(Self.twoNodes)
    _ = try setup.apply(cluster, filesOnly: true, services: services)
    #expect(services.restarted.isEmpty)
    // Nothing changed since, but dnsmasq never got the new file: restart now, then never again.
    #expect(try setup.apply(cluster, services: services).dnsmasq == "restarted")
    #expect(try setup.apply(cluster, services: services).dnsmasq == "unchanged")
    #expect(services.restarted == ["dnsmasq"])
    // A failed restart is an error with advice, and is retried by the next apply.
    services.failing.withLock { $0 = true }
    var changed = cluster
    changed.nodes.removeLast()
    let error = #expect(throws: PiSwarmError.self) { try setup.apply(changed, services: services) }
    #expect(error?.advice?.contains("journalctl -u dnsmasq") == true)
    services.failing.withLock { $0 = false }
    #expect(try setup.apply(changed, services: services).dnsmasq == "restarted")
    #expect(services.restarted == ["dnsmasq", "dnsmasq"])
  }

  @Test func dnsmasqRejectingTheFileWritesNothing() throws {
    guard Command.resolve("dnsmasq") != nil else { return }
    let setup = Setup()
    #expect(throws: PiSwarmError.self) {
      try NetbootApply.run(
        try setup.cluster(Self.twoNodes), paths: setup.paths,
        options: .init(filesOnly: true, firmwareDirectory: nil, dnsmasqExtra: ["no-such-option"]),
        services: FakeServices())
    }
    #expect(!Files.exists(setup.paths.folder) && !Files.exists(setup.tftp))
  }

  @Test func aRenderingErrorWritesNothing() throws {
    let setup = Setup()
    var cluster = try setup.cluster(Self.twoNodes)
    cluster.head.nfsRoot = "/srv/my nfs"
    #expect(throws: PiSwarmError.self) { try setup.apply(cluster, services: FakeServices()) }
    #expect(!Files.exists(setup.tftp))
    #expect(!Files.exists(setup.paths.folder))
  }

  @Test func missingFirmwareIsAWarningNotAFailure() throws {
    let setup = Setup()
    let result = try NetbootApply.run(
      try setup.cluster(Self.twoNodes), paths: setup.paths,
      options: .init(filesOnly: true, firmwareDirectory: setup.dir.file("nope"), dnsmasqExtra: []),
      services: FakeServices())
    #expect(result.warnings.contains { $0.contains("no firmware at \(setup.dir.file("nope"))") })
    #expect(Files.exists(setup.tftp + "/b8-27-eb-00-00-01/cmdline.txt"))
  }

  @Test func unreadableFirmwareIsNamed() throws {
    let setup = Setup()
    chmod(setup.dir.file("fw"), 0o700)
    #expect(BootTreeApplier.unreadableByOthers(setup.dir.file("fw"))?.contains("not searchable by others") == true)
    chmod(setup.dir.file("fw"), 0o755)
    #expect(BootTreeApplier.unreadableByOthers(setup.dir.file("fw")) == nil)
  }
}
