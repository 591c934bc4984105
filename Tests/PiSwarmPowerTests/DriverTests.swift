import Foundation
import PiSwarmCore
import PiSwarmPower
import PiSwarmSSH
import PiSwarmSystem
import PiSwarmTestSupport
import Synchronization
import Testing

/// The shell drivers run for real (`/bin/sh` on this machine, a state file standing in for a
/// relay), the presets' commands as rendered, boot waits with a clock of the test's own.
@Suite struct DriverTests {
  /// A cluster of one node whose power is a `command` driver over a relay file in `dir`.
  static func cluster(_ dir: TemporaryDirectory, _ power: String, extra: String = "") throws -> Cluster {
    let text = """
      name: t
      head: {interface: eth0, address: 10.0.0.1/24}
      defaults: {boot: preinstalled, docker_storage: root}
      nodes:
        - {name: node01, ip: 10.0.0.11, power: \(power)}
      \(extra)
      """
    let decoded = ClusterFile.decode(text: text)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  /// What ran, in order.
  final class Log: Sendable {
    let items = Mutex<[String]>([])
    func add(_ item: String) { items.withLock { $0.append(item) } }
    var all: [String] { items.withLock { $0 } }
  }

  static func context(_ dir: TemporaryDirectory, _ cluster: Cluster, ran: Log? = nil) -> PowerContext {
    PowerContext(
      stateDirectory: dir.path, secrets: SecretStore(stateDirectory: dir.path), cluster: cluster,
      runOnNode: { node, command in
        ran?.add("\(node.name): \(command)")
        return (0, "p1:1\n")
      })
  }

  static func relay(_ dir: TemporaryDirectory) -> String {
    let file = dir.file("relay")
    return
      "{ driver: command, on: \"echo on {node} > \(file)\", off: \"echo off {node} > \(file)\", status: \"cat \(file)\", on_pattern: \"^on \" }"
  }

  @Test func theCommandDriverSwitchesAndReadsThroughItsTemplates() throws {
    let dir = TemporaryDirectory()
    let cluster = try Self.cluster(dir, Self.relay(dir))
    let node = try #require(cluster.node(named: "node01"))
    let context = Self.context(dir, cluster)
    #expect(try PowerDrivers.run(.on, node: node, context: context).get() == .on)
    #expect(try String(contentsOfFile: dir.file("relay"), encoding: .utf8) == "on node01\n")
    #expect(try PowerDrivers.run(.status, node: node, context: context).get() == .on)
    #expect(try PowerDrivers.run(.off, node: node, context: context).get() == .off)
    #expect(try PowerDrivers.run(.status, node: node, context: context).get() == .off)
    // No cycle template: off, then on.
    #expect(try PowerDrivers.run(.cycle, node: node, context: context).get() == .on)
    #expect(try String(contentsOfFile: dir.file("relay"), encoding: .utf8) == "on node01\n")
  }

  @Test func aFailingCommandSaysWhereItRanAndHowToRetryIt() throws {
    let dir = TemporaryDirectory()
    let cluster = try Self.cluster(dir, "{ driver: command, on: \"echo relay jammed >&2; exit 3\", off: \"true\" }")
    let node = try #require(cluster.node(named: "node01"))
    guard case .failure(let error) = PowerDrivers.run(.on, node: node, context: Self.context(dir, cluster)) else {
      Issue.record("a failing command succeeded")
      return
    }
    #expect(error.message == "node node01: power on on the head failed with status 3")
    #expect(error.causeText == "relay jammed")
    #expect(error.advice?.contains("run it by hand") == true)
  }

  @Test func aSecretReachesTheCommandInItsEnvironmentAndNeverItsOutput() throws {
    let dir = TemporaryDirectory()
    try SecretStore(stateDirectory: dir.path).set(Secret(name: "relay-token", value: "tok-9f8e7d"))
    let cluster = try Self.cluster(
      dir,
      "{ driver: command, on: \"test \\\"$PISWARM_TOKEN\\\" = tok-9f8e7d && echo \\\"$PISWARM_TOKEN\\\" > \(dir.file("seen"))\", off: \"echo bad $PISWARM_TOKEN >&2; exit 1\", token_secret: relay-token }"
    )
    let node = try #require(cluster.node(named: "node01"))
    let context = Self.context(dir, cluster)
    #expect(try PowerDrivers.run(.on, node: node, context: context).get() == .on)
    #expect(try String(contentsOfFile: dir.file("seen"), encoding: .utf8) == "tok-9f8e7d\n")
    guard case .failure(let error) = PowerDrivers.run(.off, node: node, context: context) else {
      Issue.record("off succeeded")
      return
    }
    #expect(!error.description.contains("tok-9f8e7d"), "\(error)")
    #expect(error.description.contains("bad <secret relay-token>"), "\(error)")
    // A secret that is not stored: an error naming it, with how to store it.
    try SecretStore(stateDirectory: dir.path).remove("relay-token")
    guard case .failure(let missing) = PowerDrivers.run(.on, node: node, context: context) else {
      Issue.record("ran without its secret")
      return
    }
    #expect(missing.advice?.contains("piswarm secret set relay-token") == true)
  }

  @Test func viaRunsTheCommandOnTheControllerNode() throws {
    let dir = TemporaryDirectory()
    let cluster = try Self.cluster(
      dir, "{ driver: clusterhat, via: ctrl, port: 1 }", extra: "  - {name: ctrl, ip: 10.0.0.2, power: none}")
    let node = try #require(cluster.node(named: "node01"))
    let ran = Log()
    let context = Self.context(dir, cluster, ran: ran)
    #expect(try PowerDrivers.run(.on, node: node, context: context).get() == .on)
    #expect(try PowerDrivers.run(.status, node: node, context: context).get() == .on)
    #expect(try PowerDrivers.run(.cycle, node: node, context: context).get() == .on)
    #expect(
      ran.all == [
        "ctrl: clusterctrl on p1", "ctrl: clusterctrl status", "ctrl: clusterctrl off p1", "ctrl: clusterctrl on p1",
      ])
  }

  @Test func uhubctlSwitchesItsPortAndReadsTheNewStatus() throws {
    let dir = TemporaryDirectory()
    let cluster = try Self.cluster(
      dir, "{ driver: uhubctl, via: ctrl, location: \"1-1.3\", port: 2 }",
      extra: "  - {name: ctrl, ip: 10.0.0.2, power: none}")
    let node = try #require(cluster.node(named: "node01"))
    let ran = Log()
    let context = PowerContext(
      stateDirectory: dir.path, secrets: SecretStore(stateDirectory: dir.path), cluster: cluster,
      runOnNode: { _, command in
        ran.add(command)
        return (0, command.hasSuffix("-a off") ? "  Port 2: 0503 power\nSent power off request\n  Port 2: 0000 off\n" : "")
      })
    #expect(try PowerDrivers.run(.off, node: node, context: context).get() == .off)
    #expect(try PowerDrivers.run(.cycle, node: node, context: context).get() == .on)
    #expect(ran.all == ["uhubctl -l 1-1.3 -p 2 -a off", "uhubctl -l 1-1.3 -p 2 -a cycle"])
  }

  @Test func powerNoneIsUncontrolled() throws {
    let dir = TemporaryDirectory()
    let cluster = try Self.cluster(dir, "none")
    let node = try #require(cluster.node(named: "node01"))
    #expect(try PowerDrivers.run(.on, node: node, context: Self.context(dir, cluster)).get() == .uncontrolled)
    #expect(PowerDrivers.driver(named: "none") == nil)
    // Every driver the cluster file accepts, but none, has code; every driver has a row of keys.
    for name in PowerDriverKeys.drivers where name != "none" { #expect(PowerDrivers.driver(named: name) != nil, "\(name)") }
    for driver in PowerDrivers.all { #expect(PowerDriverKeys.row(driver.name) != nil, "\(driver.name)") }
  }

  @Test func nodesAreSwitchedInParallelNotTwoAtATime() throws {
    let dir = TemporaryDirectory()
    let cluster = try Self.cluster(dir, "{ driver: command, on: \"sleep 0.5\", off: \"true\" }")
    let node = try #require(cluster.node(named: "node01"))
    let context = Self.context(dir, cluster)
    let started = Date()
    let results = FanOut.run(
      Array(repeating: node, count: 6), parallel: 6,
      skipped: { _ in .failure(PiSwarmError(.system, "skipped")) }, { PowerDrivers.run(.on, node: $0, context: context) })
    #expect(results.allSatisfy { (try? $0.get()) == .on })
    #expect(Date().timeIntervalSince(started) < 2, "six half-second switches took \(Date().timeIntervalSince(started)) s")
  }

  // MARK: - Boot waits

  final class Clock: Sendable {
    let time = Mutex(Date(timeIntervalSince1970: 1_000))
    func now() -> Date { time.withLock { $0 } }
    func pass(_ seconds: Double) { time.withLock { $0 += seconds } }
  }

  static func waiter(_ clock: Clock, up: @escaping @Sendable () -> Bool, cycles: Log) -> BootWaiter {
    var waiter = BootWaiter(
      timeouts: BootTimeouts(), retries: 1, sshUp: { _ in up() }, bootMarks: { _ in (nil, nil) },
      cycle: { _ in
        cycles.add("cycle")
        return nil
      }, progress: { _, _ in })
    waiter.now = { clock.now() }
    waiter.pause = { clock.pass($0 * 10) }
    return waiter
  }

  @Test func aNodeStuckBootingIsPowerCycledOnceAndThenReportedWithItsPhase() throws {
    let node = Node(name: "node01", ip: IPv4Address("10.0.0.11") ?? IPv4Address(0), boot: .sd)
    let clock = Clock()
    let cycles = Log()
    // Never up: one cycle, then stuck in ssh.
    let stuck = Self.waiter(clock, up: { false }, cycles: cycles).wait(node, poweredOn: clock.now())
    #expect(cycles.all.count == 1)
    #expect(stuck.error?.hasPrefix("stuck in phase ssh: waited ") == true, "\(stuck.error ?? "")")
    #expect(stuck.error?.contains("after 1 power cycle") == true)
    #expect(stuck.notes == ["power-cycled once stuck in phase ssh"])
    // Up after the cycle: no error, the cycle noted.
    let again = Log()
    let back = Self.waiter(clock, up: { !again.all.isEmpty }, cycles: again).wait(node, poweredOn: clock.now())
    #expect(back.error == nil && back.notes == ["power-cycled once stuck in phase ssh"])
  }
}

extension DriverTests {
  /// A node whose driver reports it off while it boots (its initramfs gave up and powered it
  /// down) is not waited for to the phase's end: cycled once, then reported with the phase.
  @Test func aNodeThatSwitchesItselfOffIsNotWaitedForToThePhasesEnd() throws {
    let node = Node(name: "node01", ip: IPv4Address("10.0.0.11") ?? IPv4Address(0), boot: .sd)
    let clock = Clock()
    let poweredOn = clock.now()
    let cycles = Log()
    var waiter = Self.waiter(clock, up: { false }, cycles: cycles)
    // On for the first 20 s after each switch-on, then off.
    let switchedOn = Mutex(poweredOn)
    waiter.cycle = { _ in
      cycles.add("cycle")
      switchedOn.withLock { $0 = clock.now() }
      return nil
    }
    waiter.reportsOff = { _ in clock.now().timeIntervalSince(switchedOn.withLock { $0 }) > 20 }
    let result = waiter.wait(node, poweredOn: poweredOn)
    #expect(cycles.all.count == 1)
    #expect(result.error?.hasPrefix("switched off in phase ssh, ") == true, "\(result)")
    #expect(result.error?.contains("(after 1 power cycle); see its console") == true, "\(result)")
    #expect(result.notes == ["power-cycled once switched off in phase ssh"])
    // Long before the ssh phase's own end (BootTimeouts' default).
    #expect(clock.now().timeIntervalSince(poweredOn) < 120, "\(clock.now().timeIntervalSince(poweredOn)) s")
    // A driver that cannot say (never off): waited to the phase's end as before.
    var unknown = Self.waiter(clock, up: { false }, cycles: Log())
    unknown.reportsOff = { _ in false }
    #expect(unknown.wait(node, poweredOn: clock.now()).error?.hasPrefix("stuck in phase ssh: waited ") == true)
  }

  @Test func aNetbootNodeIsFollowedPhaseByPhaseFromItsBootEvents() throws {
    let node = Node(name: "node01", ip: IPv4Address("10.0.0.11") ?? IPv4Address(0), boot: .netboot)
    let clock = Clock()
    let poweredOn = clock.now()
    let lines = Log()
    // The boot ROM asks at once; its kernel never comes.
    var waiter = BootWaiter(
      timeouts: BootTimeouts(), retries: 0, sshUp: { _ in false },
      bootMarks: { _ in (poweredOn + 2, nil) },
      cycle: { _ in "not expected" }, progress: { _, line in lines.add(line) })
    waiter.now = { clock.now() }
    waiter.pause = { clock.pass($0 * 10) }
    let result = waiter.wait(node, poweredOn: poweredOn)
    #expect(result.error?.hasPrefix("stuck in phase tftp: waited ") == true, "\(result)")
    #expect(result.error?.contains("piswarm netboot status node01") == true)
    #expect(lines.all.first?.hasPrefix("booting: waiting for the kernel to be sent over TFTP") == true, "\(lines.all)")
  }
}
