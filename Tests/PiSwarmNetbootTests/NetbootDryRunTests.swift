import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `plan`'s view of netboot apply: a dry run of the same code lists exactly what a run then
/// writes, and writes nothing; `up` writes the files with the restarts deferred and makes each
/// restart as an action of its own.
@Suite struct NetbootDryRunTests {
  typealias Setup = NetbootApplyTests.Setup

  func run(
    _ setup: Setup, _ cluster: Cluster, dryRun: Bool = false, deferRestarts: Bool = false, services: FakeServices
  ) throws -> NetbootApply.Result {
    var options = NetbootApply.Options(filesOnly: false, firmwareDirectory: nil, dnsmasqExtra: [])
    options.dryRun = dryRun
    options.deferRestarts = deferRestarts
    return try NetbootApply.run(cluster, paths: setup.paths, options: options, services: services)
  }

  @Test func aDryRunListsWhatTheRunThenWritesAndWritesNothing() throws {
    let setup = Setup()
    // The image store's firmware, published beside the TFTP root by a run.
    try FileManager.default.createDirectory(
      atPath: setup.dir.file("state/images/raspios/boot/overlays"), withIntermediateDirectories: true)
    setup.dir.write("state/images/raspios/boot/start4.elf", "start4\n")
    setup.dir.write("state/images/raspios/boot/overlays/disable-bt.dtbo", "dtbo\n")
    var cluster = try setup.cluster(NetbootApplyTests.twoNodes)
    cluster.defaults.image = "raspios"
    let services = FakeServices()
    let before = setup.dir.snapshot()
    let dry = try run(setup, cluster, dryRun: true, services: services)
    #expect(setup.dir.snapshot() == before, "a dry run wrote something")
    #expect(!Files.exists(setup.tftp) && !Files.exists(setup.paths.folder))
    #expect(dry.owed == [.dnsmasq] && services.restarted.isEmpty)
    #expect(dry.changes.contains(FileChange(setup.dir.file("firmware/raspios/start4.elf"), .created)))
    #expect(dry.changes.contains(FileChange(setup.tftp + "/b8-27-eb-00-00-01/cmdline.txt", .created)))

    let real = try run(setup, cluster, services: services)
    #expect(real.changes == dry.changes)
    #expect(services.restarted == ["dnsmasq"])
    let again = try run(setup, cluster, dryRun: true, services: services)
    #expect(again.changes.isEmpty && again.owed.isEmpty, "\(again.changes) \(again.owed)")

    // A node gone and a file changed by hand: the dry run names both, and the run does them.
    setup.dir.write("tftp/b8-27-eb-00-00-01/cmdline.txt", "changed by hand\n")
    cluster = try setup.cluster("  - { name: node01, ip: 10.9.0.11, mac: \"b8:27:eb:00:00:01\", serial: 1a2b3c4d }")
    cluster.defaults.image = "raspios"
    let snapshot = setup.dir.snapshot()
    let shrunk = try run(setup, cluster, dryRun: true, services: services)
    #expect(setup.dir.snapshot() == snapshot)
    #expect(shrunk.changes.contains(FileChange(setup.tftp + "/b8-27-eb-00-00-02", .removed)))
    #expect(shrunk.changes.contains(FileChange(setup.tftp + "/b8-27-eb-00-00-01/cmdline.txt", .updated)))
    #expect(try run(setup, cluster, services: services).changes == shrunk.changes)
  }

  @Test func deferredRestartsStayOwedUntilEachIsMade() throws {
    let setup = Setup()
    let (exportsFile, services) = try setup.kernelNFS()
    let cluster = try setup.cluster(NetbootApplyTests.twoNodes)
    #expect(try run(setup, cluster, dryRun: true, services: services).owed == [.exports, .dnsmasq])
    let files = try run(setup, cluster, deferRestarts: true, services: services)
    #expect(files.owed == [.exports, .dnsmasq] && files.dnsmasq == "restart owed" && files.exports == "reload owed")
    #expect(services.restarted.isEmpty && services.reloads.withLock { $0 } == 0)
    #expect(Files.exists(exportsFile))
    // Written, still owed: the next plan shows the restarts and no file.
    let owed = try run(setup, cluster, dryRun: true, services: services)
    #expect(owed.changes.isEmpty && owed.owed == [.exports, .dnsmasq])
    // A restart that fails stays owed.
    services.failing.withLock { $0 = true }
    #expect(throws: PiSwarmError.self) { try NetbootApply.restart(.dnsmasq, paths: setup.paths, services: services) }
    services.failing.withLock { $0 = false }
    try NetbootApply.restart(.exports, paths: setup.paths, services: services)
    try NetbootApply.restart(.dnsmasq, paths: setup.paths, services: services)
    #expect(services.restarted == ["dnsmasq"] && services.reloads.withLock { $0 } == 1)
    #expect(try run(setup, cluster, dryRun: true, services: services).owed.isEmpty)
  }

  @Test func aGaneshaServiceIsOwedARestartWhenItsExportsChange() throws {
    let setup = Setup()
    try FileManager.default.createDirectory(atPath: setup.dir.file("etc/ganesha"), withIntermediateDirectories: true)
    let services = FakeServices(ganeshaFile: setup.dir.file("etc/ganesha/ganesha.conf"))
    let cluster = try setup.cluster(NetbootApplyTests.twoNodes)
    let files = try run(setup, cluster, deferRestarts: true, services: services)
    #expect(files.owed == [.ganesha, .dnsmasq] && files.exports == "ganesha: restart owed", "\(files.exports)")
    #expect(services.restarted.isEmpty)
    try NetbootApply.restart(.ganesha, paths: setup.paths, services: services)
    #expect(services.restarted == ["nfs-ganesha"])
    #expect(try run(setup, cluster, dryRun: true, services: services).owed == [.dnsmasq])
  }

  @Test func withoutSystemdNoRestartIsOwedAndThePlanSaysWhoRestartsDnsmasq() throws {
    let setup = Setup()
    let cluster = try setup.cluster(NetbootApplyTests.twoNodes)
    let dry = try run(setup, cluster, dryRun: true, services: FakeServices(unavailable: "systemd is not running here"))
    #expect(dry.owed.isEmpty)
    #expect(dry.warnings.contains { $0.contains("restart dnsmasq yourself") }, "\(dry.warnings)")
  }
}
