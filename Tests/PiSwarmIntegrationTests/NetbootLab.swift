import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A cluster network of its own for netboot tests: a "head" network namespace holding a bridge
/// (10.232.7.1/24) and real dnsmasq, and one namespace per board running pi-bootrom. The bridge
/// lives inside the head namespace, so nothing reaches the host's network and parallel runs do
/// not collide; names carry a random id. `cleanUp` (called from the test's defer) stops what was
/// started, by PID, and deletes the namespaces and the folder.
final class NetbootLab {
  let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
  let dir = TemporaryDirectory("piswarm-netboot")
  var namespaces: [String] = []
  var pids: [pid_t] = []
  var head: String { "psnb-\(id)-h" }
  static let subnet = "10.232.7"
  static var piswarmBinary: String { TestBinary.piswarm() }

  /// pi-bootrom sits beside piswarm in the products folder.
  static var bootromBinary: String {
    URL(fileURLWithPath: piswarmBinary).deletingLastPathComponent().appendingPathComponent("pi-bootrom").path
  }

  static var missing: [String] {
    var missing = ["ip", "nsenter", "dnsmasq"].filter { Command.resolve($0) == nil }
    if getuid() != 0 { missing.append("root") }
    if !FileManager.default.isExecutableFile(atPath: bootromBinary) { missing.append("pi-bootrom (swift build)") }
    return missing
  }

  static var shouldRun: Bool { missing.isEmpty || Prerequisites.isCI }

  static func require() -> Bool {
    guard missing.isEmpty else {
      Issue.record("netboot test prerequisites missing: \(missing.joined(separator: ", ")); run 'make deps' as root")
      return false
    }
    return true
  }

  var state: String { dir.file("state") }
  var clusterFile: String { dir.file("cluster.yml") }
  var tftpRoot: String { dir.file("tftp") }
  var firmware: String { dir.file("firmware") }

  init() throws {
    chmod(dir.path, 0o755)
    try makeNamespace(head)
    try ip(["-n", head, "link", "add", "br0", "type", "bridge"])
    try ip(["-n", head, "addr", "add", "\(Self.subnet).1/24", "dev", "br0"])
    try ip(["-n", head, "link", "set", "br0", "up"])
    // A fake image's firmware, world-readable like the real image store's must be.
    try FileManager.default.createDirectory(atPath: firmware + "/overlays", withIntermediateDirectories: true)
    for name in Self.firmwareNames {
      dir.write("firmware/\(name)", String(repeating: "firmware \(name)\n", count: Self.isLarge(name) ? 300 : 3))
      chmod(dir.file("firmware/\(name)"), 0o644)
    }
  }

  /// Every model's boot files, as Raspberry Pi OS's boot folder has them (Pi 3, 4 and 5).
  static let firmwareNames = [
    "start4.elf", "fixup4.dat", "start.elf", "fixup.dat", "bootcode.bin", "kernel8.img", "bcm2711-rpi-4-b.dtb",
    "bcm2710-rpi-3-b-plus.dtb", "bcm2712-rpi-5-b.dtb", "kernel_2712.img", "initramfs_2712", "overlays/overlay_map.dtb",
  ]

  /// Kernels and initramfs are larger than a block, so their transfers take many.
  static func isLarge(_ name: String) -> Bool { name.hasPrefix("kernel") || name.hasPrefix("initramfs") }

  /// The byte count of a firmware file this lab made.
  static func size(_ name: String) -> Int { (Self.isLarge(name) ? 300 : 3) * "firmware \(name)\n".utf8.count }

  func makeNamespace(_ name: String) throws {
    try ip(["netns", "add", name])
    namespaces.append(name)
    try ip(["-n", name, "link", "set", "lo", "up"])
  }

  /// A board's namespace: its eth0 (with `mac`) cabled to the head's bridge.
  @discardableResult
  func addBoard(_ index: Int, mac: String) throws -> String {
    let namespace = "psnb-\(id)-\(index)"
    try makeNamespace(namespace)
    let port = "pb\(id)\(index)"
    try ip(["-n", head, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace])
    try ip(["-n", namespace, "link", "set", "eth0", "address", mac])
    try ip(["-n", head, "link", "set", port, "master", "br0", "up"])
    try ip(["-n", namespace, "link", "set", "eth0", "up"])
    return namespace
  }

  /// A plain DHCP server on the cluster network, as a home router would be (proxy mode).
  func addRouter() throws {
    let namespace = "psnb-\(id)-r"
    try makeNamespace(namespace)
    try ip(["-n", head, "link", "add", "pr\(id)", "type", "veth", "peer", "name", "eth0", "netns", namespace])
    try ip(["-n", head, "link", "set", "pr\(id)", "master", "br0", "up"])
    try ip(["-n", namespace, "addr", "add", "\(Self.subnet).254/24", "dev", "eth0"])
    try ip(["-n", namespace, "link", "set", "eth0", "up"])
    try startDnsmasq(
      in: namespace,
      [
        "--port=0", "--bind-interfaces", "--interface=eth0",
        "--dhcp-range=\(Self.subnet).100,\(Self.subnet).150,255.255.255.0,1h",
        "--dhcp-leasefile=\(dir.file("router.leases"))", "--no-ping", "--log-facility=\(dir.file("router.log"))", "--log-dhcp",
      ], log: dir.file("router.log"))
  }

  /// dnsmasq in the foreground (-k) in `namespace`; waits until its DHCP socket (UDP 67) is
  /// bound in that namespace, as `/proc/PID/net/udp` shows it.
  func startDnsmasq(in namespace: String, _ arguments: [String], log dnsmasqLog: String) throws {
    let output = dir.file("dnsmasq-\(namespace).out")
    let pid = try Processes.spawnDetached(
      ["nsenter", "--net=/run/netns/\(namespace)", "dnsmasq", "-k", "--pid-file="] + arguments,
      environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: output)
    pids.append(pid)
    let bound = waitUntil(timeout: 20) {
      guard Processes.isAlive(pid) else { return true }
      let sockets = (try? String(contentsOfFile: "/proc/\(pid)/net/udp", encoding: .utf8)) ?? ""
      return sockets.contains(":0043 ")
    }
    guard Processes.isAlive(pid), bound else {
      let text = [output, dnsmasqLog].map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n")
      throw TestFailure("dnsmasq in \(namespace) \(bound ? "exited" : "did not bind UDP 67 within 20 s"): \(text)")
    }
  }

  /// The head's dnsmasq with the configuration piswarm rendered.
  /// `extra`: options of this test's own on top of piswarm's file.
  func startHeadDnsmasq(_ extra: [String] = []) throws {
    try startDnsmasq(in: head, ["--conf-file=\(dir.file("etc/dnsmasq.conf"))"] + extra, log: state + "/netboot/dnsmasq.log")
  }

  func piswarm(_ arguments: [String], inHead: Bool = false) throws -> Command.Output {
    var environment = ProcessInfo.processInfo.environment
    environment["PISWARM_STATE_DIR"] = state
    environment["PISWARM_FILE"] = clusterFile
    // In the head's namespace (doctor's DHCP probe from br0), else in the test's own.
    let command = (inHead ? ["nsenter", "--net=/run/netns/\(head)"] : []) + [Self.piswarmBinary] + arguments
    return try Command(command[0], Array(command.dropFirst()), environment: environment, timeout: 60).run()
  }

  struct Boot: Codable {
    struct Offer: Codable {
      var server: String
      var yiaddr: String
      var serverID: String?
      var menu: [String]
      var piMenu: Bool
    }

    struct File: Codable {
      var name: String
      var status: String
      var bytes: Int?
      var sha256: String?
      var content: String?
      var kind: String?
    }

    var offers: [Offer]
    var address: String?
    var bootServer: String?
    var prefix: String?
    var files: [File]
    var error: String?
    var booted: Bool?

    func file(_ suffix: String) -> File? { files.last { $0.name == suffix || $0.name.hasSuffix("/" + suffix) } }
  }

  /// The events dnsmasq's hook recorded in its spool (`STATE/netboot/hook-events.*`).
  var hookEvents: [BootEvent] {
    HookSpool.segments(state + "/netboot/hook-events").flatMap { path in
      FileManager.default.contents(atPath: path).map { HookSpool.events([UInt8]($0)) } ?? []
    }
  }

  /// Runs pi-bootrom in a board's namespace; returns its report and exit status.
  func boot(_ namespace: String, _ arguments: [String]) throws -> (Boot, Int32) {
    let output = try Command(
      "nsenter", ["--net=/run/netns/\(namespace)", Self.bootromBinary, "--interface", "eth0", "--collect", "1"] + arguments,
      timeout: 60
    ).run()
    guard let report = try? JSONDecoder().decode(Boot.self, from: output.stdout) else {
      throw TestFailure("pi-bootrom printed no report (status \(output.status)): \(output.stderrText)")
    }
    return (report, output.status)
  }

  /// Polls `condition` until it holds or `timeout` passes: dnsmasq hands events to its script
  /// one after another, after the boot it reports has gone on.
  @discardableResult
  func waitUntil(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if try condition() { return true }
      usleep(100_000)
    }
    return try condition()
  }

  func ip(_ arguments: [String]) throws {
    try Command("ip", arguments, timeout: 20).check()
  }

  /// Stops every process started here (by PID: SIGTERM, then SIGKILL), deletes the namespaces.
  func cleanUp() {
    for pid in pids { Processes.signal(pid, SIGTERM) }
    for pid in Processes.waitForExit(pids, timeout: 5) { Processes.signal(pid, SIGKILL) }
    _ = Processes.waitForExit(pids, timeout: 5)
    for pid in pids { Processes.reap(pid) }
    for namespace in namespaces.reversed() { Cleanup.deleteNamespace(namespace) }
    // dnsmasq's script helper can still be running a hook (piswarm netboot hook, writing into
    // this lab's state) after dnsmasq itself ended: wait for those, by PID, before the folder
    // goes, or its removal races with their writes and leaves part of it behind.
    let hooks = Processes.all().filter { pid in
      Processes.isAlive(pid) && Processes.commandLine(pid).contains { $0.contains(dir.path) }
    }
    for pid in Processes.waitForExit(hooks, timeout: 5) { Processes.signal(pid, SIGKILL) }
    _ = Processes.waitForExit(hooks, timeout: 2)
    // Never through a mount: what is still mounted below goes first (retried, then lazily).
    Cleanup.unmount(below: dir.path)
    Cleanup.detachLoops(below: dir.path)
    guard !Mounts.points().contains(where: { $0.hasPrefix(dir.path + "/") }) else { return }
    for _ in 0..<3 where Files.exists(dir.path) {
      try? FileManager.default.removeItem(atPath: dir.path)
    }
  }

  /// What is left of this lab on the machine.
  func leftovers() -> [String] {
    let existing = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
    return existing.filter { $0.hasPrefix("psnb-\(id)-") }.map { "namespace \($0)" }
      + pids.filter(Processes.isAlive).map { "process \($0)" }
      + (Files.exists(dir.path) ? ["folder \(dir.path)"] : [])
      + Leftovers.waitForNone(paths: [dir.path], pids: pids)
  }
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ text: String) { description = text }
}
