import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm power` as a user runs it, with a `command` driver over a file on this machine and a
/// node with `power: none`.
@Suite struct PowerCommandTests {
  static func setUp(_ dir: TemporaryDirectory) -> String {
    dir.write("id_ed25519", "not a key: power on the head does not use SSH\n")
    let relay = dir.file("relay")
    dir.write(
      "cluster.yml",
      """
      name: lab
      head: { interface: eth1, address: 10.42.0.250/24, lan: none }
      ssh: { key: \(dir.file("id_ed25519")) }
      defaults: { boot: preinstalled }
      nodes:
        - { name: node01, ip: 10.42.0.1, power: none }
        - name: node02
          ip: 10.42.0.2
          power: { driver: command, on: "echo on {node} > \(relay)", off: "echo off {node} > \(relay)", status: "cat \(relay)", on_pattern: "^on" }

      """)
    return relay
  }

  @Test func nodesAreSwitchedAndReadAndOnesWithPowerNoneAreReportedUncontrolled() throws {
    let dir = TemporaryDirectory()
    let relay = Self.setUp(dir)
    let on = try CLI.run(["power", "on", "node02", "--no-wait", "--json"], in: dir)
    #expect(on.status == 0, "\(on.stderr)")
    #expect(try String(contentsOfFile: relay, encoding: .utf8) == "on node02\n")

    let status = try CLI.run(["power", "status", "all", "--json"], in: dir)
    #expect(status.status == 1, "power: none is not everything done")
    let rows = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(rows.map { $0["node"] as? String } == ["node01", "node02"])
    #expect(rows.map { $0["state"] as? String } == ["uncontrolled", "on"], "\(status.stdout)")
    #expect(status.stderr.contains("node01: node01 has power: none"), "\(status.stderr)")

    let off = try CLI.run(["power", "off", "--hard", "node[01-02]"], in: dir)
    #expect(off.status == 1)
    #expect(off.stdout.contains("NODE") && off.stdout.contains("uncontrolled"), "\(off.stdout)")
    #expect(try String(contentsOfFile: relay, encoding: .utf8) == "off node02\n")
    // Journaled: node02 done, node01 refused.
    let store = try SQLiteStateStore(stateDirectory: dir.file("state"))
    let run = try #require(try store.runs(limit: 5).first { $0.command.contains("power off") })
    let steps = try store.steps(run: try #require(run.id)).map { "\($0.node) \($0.step) \($0.status)" }.sorted()
    #expect(steps == ["node01 power off refused", "node02 power off done"])

    let unknown = try CLI.run(["power", "on", "node09"], in: dir)
    #expect(unknown.status == 64 && unknown.stderr.contains("\"node09\" is not a node"), "\(unknown.stderr)")
  }
}
