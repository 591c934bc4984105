import Foundation
import PiSwarmCore
import PiSwarmPower
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// The snmp-poe driver against Debian's real snmpd, in a network namespace of the test's own,
/// serving POWER-ETHERNET-MIB for 8 ports through `Fixtures/poe_mib.py` (pass_persist). The
/// driver's snmpset/snmpget run in that namespace through the recorder.
@Suite(.serialized, .enabled(if: PowerBench.missing(PowerBench.snmpPrograms).isEmpty || Prerequisites.isCI))
final class SNMPPoEIntegrationTests {
  static let agent = "192.0.2.10"

  let bench: PowerBench
  var namespace: String { "pxpoe-\(bench.id)" }
  var ports: String { bench.dir.file("ports") }

  init() throws {
    bench = try PowerBench()
  }

  deinit { bench.cleanUp() }

  /// snmpd in the namespace at 192.0.2.10:161 with a v2c read-write community (`community`
  /// quoted as com2sec takes it: `rwcommunity` takes no quotes) and a v3 authPriv user;
  /// returns once it listens.
  func startSwitch(community: String, user: String, auth: String, priv: String) throws {
    try bench.makeNamespace(namespace)
    try Command("ip", ["-n", namespace, "addr", "add", "\(Self.agent)/32", "dev", "lo"], timeout: 20).check()
    bench.dir.write("tools/netns", namespace)
    let python =
      FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
      ? "/usr/bin/python3" : Command.resolve("python3") ?? "python3"
    bench.dir.write(
      "snmpd.conf",
      """
      com2sec piswarm-rw default \(community)
      group piswarm-rw v2c piswarm-rw
      view all included .1
      rocommunity probe default
      access piswarm-rw "" any noauth exact all all none
      createUser \(user) SHA "\(auth)" AES "\(priv)"
      rwuser \(user) priv
      pass_persist \(SNMPPoE.adminEnable) \(python) \(PowerBench.fixtures)/poe_mib.py \(ports)

      """)
    let log = bench.dir.file("snmpd.log")
    let pid = try bench.start(
      [
        "nsenter", "--net=/run/netns/\(namespace)", "snmpd", "-f", "-C", "-c", bench.dir.file("snmpd.conf"), "-Lf", log,
        "-p", bench.dir.file("snmpd.pid"), "udp:\(Self.agent):161",
      ], log: bench.dir.file("snmpd.out"),
      environment: ["SNMP_PERSISTENT_DIR": bench.dir.file("snmpd-persistent"), "MIBS": ""])
    let listening = bench.waitUntil(timeout: 20) {
      guard Processes.isAlive(pid) else { return true }
      let sockets = (try? String(contentsOfFile: "/proc/\(pid)/net/udp", encoding: .utf8)) ?? ""
      return sockets.contains(":00A1 ")
    }
    guard listening, Processes.isAlive(pid) else {
      throw TestFailure("snmpd did not listen on UDP 161: \(bench.dir.read("snmpd.log")?.suffix(2000) ?? "")")
    }
    // The MIB script starts with the first request: wait until it answers.
    let probe = Command(
      "nsenter",
      [
        "--net=/run/netns/\(namespace)", "snmpget", "-v2c", "-c", "probe", "-Oqv", "udp:\(Self.agent):161",
        "\(SNMPPoE.adminEnable).1.1",
      ],
      environment: ["PATH": "/usr/bin:/bin", "MIBS": "", "SNMP_PERSISTENT_DIR": bench.dir.file("probe-persistent")], timeout: 20)
    guard bench.waitUntil(timeout: 20, { (try? probe.run().stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) == "1" })
    else {
      throw TestFailure("the PoE MIB did not answer: \(bench.dir.read("snmpd.log")?.suffix(2000) ?? "")")
    }
  }

  /// The 8 ports' values as the switch holds them (1 on, 2 off); all on before any set.
  func portStates() -> [Int] {
    var states = Array(repeating: 1, count: 8)
    for line in (bench.dir.read("ports") ?? "").split(separator: "\n") {
      let fields = line.split(separator: " ").compactMap { Int($0) }
      if fields.count == 2, (1...8).contains(fields[0]) { states[fields[0] - 1] = fields[1] }
    }
    return states
  }

  func states(off: Set<Int>) -> [Int] { (1...8).map { off.contains($0) ? 2 : 1 } }

  @Test func switchesExactlyTheRightPortsAndFailsClearly() throws {
    guard PowerBench.require(PowerBench.snmpPrograms) else { return }
    let community = "c0mm\"unity with spaces\\"
    let user = "piswarm-\(bench.id)"
    try bench.secret("poe-community", community)
    try bench.secret("poe-auth", "auth-Pass-\(bench.id)")
    try bench.secret("poe-priv", "priv-Pass-\(bench.id)")
    try bench.secret("wrong-community", "not-the-community")
    // snmpd.conf's quoting of the same value.
    try startSwitch(
      community: #""c0mm\"unity with spaces\\""#, user: user, auth: "auth-Pass-\(bench.id)", priv: "priv-Pass-\(bench.id)")
    let driver = SNMPPoEDriver(tools: bench.tools)
    func v2c(_ port: Int) -> [String: String] {
      ["host": Self.agent, "port": "\(port)", "community_secret": "poe-community", "cycle_delay": "0"]
    }

    #expect(try bench.run(driver, .status, v2c(3)).get() == .on)
    #expect(try bench.run(driver, .off, v2c(3)).get() == .off)
    #expect(portStates() == states(off: [3]))
    #expect(try bench.run(driver, .status, v2c(3)).get() == .off)
    #expect(try bench.run(driver, .off, v2c(6)).get() == .off)
    #expect(portStates() == states(off: [3, 6]))
    #expect(try bench.run(driver, .on, v2c(3)).get() == .on)
    #expect(portStates() == states(off: [6]))
    #expect(try bench.run(driver, .cycle, v2c(8)).get() == .on)
    #expect(portStates() == states(off: [6]))
    let sets = (bench.dir.read("tools/argv.log") ?? "").split(separator: "\n").filter { $0.hasPrefix("snmpset") }
    #expect(sets.suffix(2).map { String($0.suffix(6)) } == [".8 i 2", ".8 i 1"])

    // SNMPv3, authPriv.
    let v3 = [
      "host": "\(Self.agent):161", "port": "1", "version": "3", "user": user, "auth_protocol": "SHA", "auth_secret": "poe-auth",
      "priv_protocol": "AES", "priv_secret": "poe-priv",
    ]
    #expect(try bench.run(driver, .off, v3).get() == .off)
    #expect(portStates() == states(off: [1, 6]))
    #expect(try bench.run(driver, .status, v3).get() == .off)

    // A wrong community: the agent stays silent.
    var wrong = v2c(2)
    wrong["community_secret"] = "wrong-community"
    let refused = bench.run(driver, .off, wrong)
    #expect(bench.errors.last?.contains("no answer from \(Self.agent) with that community — check community_secret") == true)
    #expect((try? refused.get()) == nil)
    // A port the switch does not have.
    _ = bench.run(driver, .off, v2c(9))
    #expect(bench.errors.last?.contains("port 9 is not a PoE port on \(Self.agent)") == true)
    _ = bench.run(driver, .status, v2c(12))
    #expect(bench.errors.last?.contains("port 12 is not a PoE port on \(Self.agent)") == true)
    // A wrong v3 passphrase.
    var badAuth = v3
    badAuth["auth_secret"] = "wrong-community"
    _ = bench.run(driver, .status, badAuth)
    #expect(bench.errors.last?.contains("did not accept SNMPv3 user \(user)") == true)
    #expect(portStates() == states(off: [1, 6]))

    // No credential in argv, environment, errors or state; the tools ran with the config folder
    // gone afterwards.
    #expect(bench.leaks().isEmpty, "\(bench.leaks())")
    let environment = bench.dir.read("tools/env.log") ?? ""
    let folders = Set(
      environment.split(separator: "\n").filter { $0.hasPrefix("SNMPCONFPATH=") }.map {
        String($0.dropFirst("SNMPCONFPATH=".count))
      })
    #expect(!folders.isEmpty)
    #expect(folders.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
  }
}
