import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `piswarm power` and `up` from cold on lab nodes (the lab driver), a `command` driver whose
/// `via:` runs on a controller node over SSH, and a credential that never shows.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct PowerIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  static func json(_ output: Command.Output) -> [[String: Any]] {
    (try? JSONSerialization.jsonObject(with: output.stdout) as? [[String: Any]]) ?? []
  }

  static func ip(_ lab: Lab, _ node: Int) -> String { "10.231.\(SwarmIntegrationTests().index(of: lab)).1\(node)" }

  @Test func fiveNodesOffAreSwitchedOnByUpWhichFormsTheSwarmThenOneShutsDownCleanlyAndAHungOneIsCycled() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 5, managers: 3)
    for node in 1...5 {
      let stop = try lab.piswarm(["lab", "stop", "--name", lab.name, "node0\(node)"])
      try #require(stop.status == 0, "\(stop.stderrText)")
    }

    // plan says the nodes are switched on first.
    let plan = try lab.piswarm(["--file", file, "plan", "--json", "--connect-timeout", "2", "--retries", "0"])
    #expect(plan.status == 0, "\(plan.stderrText)")
    let planned = Self.json(plan).compactMap { $0["action"] as? String }
    #expect(planned == (1...5).map { "power on node0\($0)" } + (1...5).map { "wait boot node0\($0)" }, "\(plan.stdoutText)")

    // One up: switched on, waited for, Docker and the swarm.
    let up = try lab.piswarm(["--file", file, "up", "--json", "--connect-timeout", "2", "--retries", "0"], timeout: 300)
    #expect(up.status == 0, "\(up.stderrText)")
    let actions = Self.json(up).compactMap { $0["action"] as? String }
    #expect(Array(actions.prefix(10)) == planned, "\(actions)")
    #expect(actions.contains("init node01") && actions.contains("join node05 as worker"), "\(actions)")
    let list = try lab.ssh(Self.ip(lab, 1), "docker node ls --format '{{.Hostname}} {{.Status}}'")
    #expect(
      list.stdoutText.split(separator: "\n").map(String.init).sorted() == (1...5).map { "node0\($0) Ready" }, "\(list.stdoutText)"
    )

    // power status: every node on.
    let status = try lab.piswarm(["--file", file, "power", "status", "all", "--json"])
    #expect(status.status == 0, "\(status.stderrText)")
    #expect(Self.json(status).map { $0["state"] as? String } == Array(repeating: "on", count: 5), "\(status.stdoutText)")

    // power off node05: asked over SSH, down, then cut; journaled.
    let off = try lab.piswarm(["--file", file, "power", "off", "node05", "--json"])
    #expect(off.status == 0, "\(off.stderrText)")
    let row = try #require(Self.json(off).first)
    #expect(row["state"] as? String == "off")
    let notes = row["notes"] as? [String] ?? []
    #expect(notes.contains { $0.hasPrefix("shut down over SSH in") }, "\(off.stdoutText)")
    #expect(try lab.ssh(Self.ip(lab, 5), "true", connectTimeout: 2).status != 0)
    // Its dockerd ended cleanly (the node's own log), not killed with the node.
    let log =
      (try? String(contentsOfFile: "\(lab.state.path)/labs/\(lab.name)/nodes/node05/var-log/dockerd.log", encoding: .utf8)) ?? ""
    #expect(log.contains("Daemon shutdown complete"), "\(log.suffix(600))")
    let offStatus = try lab.piswarm(["--file", file, "power", "status", "node05", "--json"])
    #expect(Self.json(offStatus).first?["state"] as? String == "off")
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)
    let run = try #require(try store.runs(limit: 20).first { $0.command.hasSuffix("power off node05 --json") })
    #expect(try store.steps(run: try #require(run.id)).map { "\($0.node) \($0.step) \($0.status)" } == ["node05 power off done"])

    // node04 hangs: its sshd is stopped (SIGSTOP), so connections open but no SSH answers.
    // power cycle brings it back.
    let hung = try #require(Self.sshd(namespace: "pslab-\(lab.name)-node04"), "node04's sshd not found")
    #expect(Processes.signal(hung, SIGSTOP))
    #expect(try lab.ssh(Self.ip(lab, 4), "true", connectTimeout: 2).status != 0)
    let cycle = try lab.piswarm(["--file", file, "power", "cycle", "node04", "--json"])
    #expect(cycle.status == 0, "\(cycle.stderrText)")
    #expect(Self.json(cycle).first?["state"] as? String == "on")
    #expect(try lab.ssh(Self.ip(lab, 4), "hostname").stdoutText == "node04\n")
  }

  /// The listening sshd of a lab node: the sshd in the node's network namespace whose parent
  /// is not an sshd (a session's).
  static func sshd(namespace: String) -> Int32? {
    var info = stat()
    guard stat("/run/netns/\(namespace)", &info) == 0 else { return nil }
    let wanted = "net:[\(info.st_ino)]"
    return Processes.all().first { pid in
      guard Processes.name(pid) == "sshd",
        let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net"),
        link == wanted
      else { return false }
      let parent = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(3).first
      return parent.flatMap { Int32($0) }.map { Processes.name($0) != "sshd" } ?? false
    }
  }

  @Test func aCommandDriverViaAControllerRunsThereAndItsCredentialNeverShows() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 2, managers: 1)
    let token = "tok-\(UUID().uuidString)"
    try SecretStore(stateDirectory: lab.state.path).set(Secret(name: "relay-token", value: token))
    let relay = "\(lab.state.path)/relay-node01"
    var text = try String(contentsOfFile: file, encoding: .utf8)
    text = text.replacingOccurrences(
      of: "  - name: node01\n",
      with: """
          - name: node01
            power: { driver: command, on: "echo token=$PISWARM_TOKEN; echo on > \(relay)", off: "echo token=$PISWARM_TOKEN >&2; exit 7", status: "cat \(relay)", on_pattern: "^on", token_secret: relay-token }

        """)
    text = text.replacingOccurrences(
      of: "  - name: node02\n",
      with: """
          - name: node02
            power: { driver: command, via: node01, on: "echo on {node} > /root/power-{node}", off: "echo off {node} > /root/power-{node}", status: "cat /root/power-{node}", on_pattern: "^on " }

        """)
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    var shown = ""
    func run(_ arguments: [String]) throws -> Command.Output {
      let result = try lab.piswarm(["--file", file] + arguments)
      shown += result.stdoutText + result.stderrText
      return result
    }

    // via: the command ran on node01 (its own /root), not on the head.
    let on = try run(["power", "on", "node02", "--no-wait", "--json"])
    #expect(on.status == 0, "\(on.stderrText)")
    #expect(try lab.ssh(Self.ip(lab, 1), "cat /root/power-node02").stdoutText == "on node02\n")
    #expect(!Files.exists("/root/power-node02"))
    #expect(try run(["power", "status", "node02", "--json"]).stdoutText.contains("\"state\" : \"on\""))

    // The secret reaches the command (it wrote the relay) and shows nowhere.
    let switched = try run(["power", "on", "node01", "--no-wait", "--json"])
    #expect(switched.status == 0, "\(switched.stderrText)")
    #expect(try String(contentsOfFile: relay, encoding: .utf8) == "on\n")
    let status = try run(["power", "status", "all"])
    #expect(status.status == 0, "\(status.stderrText)")
    let failed = try run(["power", "off", "--hard", "node01", "--json"])
    #expect(failed.status == 1)
    let error = Self.json(failed).first?["error"] as? String ?? ""
    #expect(error.contains("failed with status 7") && error.contains("token=<secret relay-token>"), "\(error)")
    let failedTable = try run(["power", "off", "--hard", "node01"])
    #expect(failedTable.status == 1)
    #expect(!shown.contains(token), "the credential was printed")
    // Nor in the journal: the state store's files, byte for byte.
    for name in try FileManager.default.contentsOfDirectory(atPath: lab.state.path) where name.hasPrefix("state.sqlite") {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(lab.state.path)/\(name)"))
      #expect(bytes.range(of: Data(token.utf8)) == nil, "\(name) holds the credential")
    }
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)
    let steps = try store.runs(limit: 20).flatMap { try store.steps(run: $0.id ?? 0) }
    #expect(steps.contains { $0.node == "node01" && $0.step == "power off" && $0.status == "failed" })
  }
}
