import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `piswarm exec` and `facts` against lab nodes: real sshd, real OpenSSH client.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct SSHIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  /// A lab of `nodes` nodes, its cluster file, and its node list.
  func withLab(nodes: Int, _ body: (Lab, String, [NodeListing.Entry]) throws -> Void) throws {
    let lab = Lab()
    defer { lab.down() }
    let up = try lab.piswarm(["lab", "up", "--name", lab.name, "--nodes", "\(nodes)"])
    try #require(up.status == 0, "\(up.stderrText)")
    let file = up.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    let list = try lab.piswarm(["--file", file, "node", "ls", "--json"])
    try body(lab, file, try JSONDecoder().decode([NodeListing.Entry].self, from: list.stdout))
  }

  /// The node's own processes named `name` (by PID namespace of the node's init).
  func nodeProcesses(_ lab: Lab, _ node: String, named name: String) -> [Int32] {
    let marker = "\(lab.state.path)/labs/\(lab.name)/nodes/\(node)/init.sh"
    guard
      let pid1 = Processes.all().first(where: {
        Processes.name($0).hasPrefix("tini") && Processes.commandLine($0).contains(marker)
      }),
      let namespace = Processes.pidNamespace(pid1)
    else { return [] }
    return Processes.inNamespace(namespace).filter { Processes.name($0) == name && Processes.isAlive($0) }
  }

  func sshProcesses(_ lab: Lab) -> [Int32] {
    Processes.all().filter { pid in
      Processes.isAlive(pid) && Processes.name(pid) == "ssh"
        && Processes.commandLine(pid).contains { $0.contains(lab.state.path) }
    }
  }

  @Test func execOnFiveNodesReturnsEachHostName() throws {
    guard Prerequisites.require() else { return }
    try withLab(nodes: 5) { lab, file, nodes in
      let result = try lab.piswarm(["--file", file, "exec", "all", "--json", "--", "hostname"])
      #expect(result.status == 0, "\(result.stderrText)")
      let items = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] ?? []
      #expect(items.map { $0["node"] as? String } == nodes.map(\.name))
      #expect(items.map { ($0["stdout"] as? String) ?? "" } == nodes.map { $0.name + "\n" })
      #expect(items.allSatisfy { $0["status"] as? String == "ok" })
      // Arguments arrive as words, quoted once: no remote shell expansion of our arguments.
      let quoted = try lab.piswarm(["--file", file, "exec", nodes[0].name, "--", "echo", "a b", "$HOME", "it's;", "*"])
      #expect(quoted.stdoutText.contains("\na b $HOME it's; *\n"), "\(quoted.stdoutText)")
      // Warm masters make a second round fast.
      let started = Date()
      #expect(try lab.piswarm(["--file", file, "exec", "all", "--", "true"]).status == 0)
      #expect(Date().timeIntervalSince(started) < 10)
      // Facts are read and stored.
      let facts = try lab.piswarm(["--file", file, "facts", "--json"])
      #expect(facts.status == 0, "\(facts.stderrText)")
      #expect(facts.stdoutText.contains("\"kernel\""))
      #expect(facts.stdoutText.contains("\"docker\""))
    }
  }

  @Test func aNodeWithSSHDownIsUnreachableWhileTheOthersSucceed() throws {
    guard Prerequisites.require() else { return }
    try withLab(nodes: 3) { lab, file, nodes in
      let down = nodes[1]
      let sshd = nodeProcesses(lab, down.name, named: "sshd")
      try #require(!sshd.isEmpty)
      for pid in sshd { kill(pid, SIGKILL) }
      let started = Date()
      let result = try lab.piswarm(["--file", file, "exec", "all", "--connect-timeout", "2", "--json", "--", "hostname"])
      #expect(Date().timeIntervalSince(started) < 8)
      #expect(result.status == 1)
      let items = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] ?? []
      let byNode = Dictionary(uniqueKeysWithValues: items.map { ($0["node"] as? String ?? "", $0) })
      #expect(byNode[down.name]?["status"] as? String == "unreachable")
      #expect(byNode[nodes[0].name]?["stdout"] as? String == "\(nodes[0].name)\n")
      #expect(byNode[nodes[2].name]?["stdout"] as? String == "\(nodes[2].name)\n")
      #expect(result.stderrText.contains("\(down.name): unreachable"))

      // A node that answers nothing at all (its link is down): reported within the connect
      // timeout, no retries asked for.
      let silent = nodes[2]
      _ = try Command("ip", ["-n", "pslab-\(lab.name)-\(silent.name)", "link", "set", "eth0", "down"]).check()
      _ = try? Command("ssh", ["-O", "exit", "-o", "ControlPath=\(lab.state.path)/ssh/root@\(silent.ip)", "root@\(silent.ip)"])
        .run()
      let quiet = Date()
      let timedOut = try lab.piswarm([
        "--file", file, "exec", silent.name, "--connect-timeout", "2", "--retries", "0", "--", "true",
      ])
      let elapsed = Date().timeIntervalSince(quiet)
      #expect(timedOut.status == 1)
      #expect(timedOut.stderrText.contains("unreachable"))
      #expect(elapsed >= 1.5 && elapsed < 4, "took \(elapsed) s")
    }
  }

  @Test func aChangedHostKeyIsRefusedWithThePinningMessage() throws {
    guard Prerequisites.require() else { return }
    try withLab(nodes: 2) { lab, file, nodes in
      let knownHosts = lab.state.file("known_hosts")
      let original = lab.state.read("known_hosts") ?? ""
      let lines = original.split(separator: "\n").map(String.init)
      let otherKey =
        lines.first { $0.hasPrefix("\(nodes[1].ip) ") }?.split(separator: " ").dropFirst().joined(separator: " ") ?? ""
      let forged = lines.map { $0.hasPrefix("\(nodes[0].ip) ") ? "\(nodes[0].ip) \(otherKey)" : $0 }
      try (forged.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
      let result = try lab.piswarm(["--file", file, "exec", "all", "--", "hostname"])
      #expect(result.status == 1)
      #expect(result.stderrText.contains("\(nodes[0].name): host-key-changed"))
      #expect(result.stderrText.contains("ssh-keygen -R \(nodes[0].ip) -f \(knownHosts)"))
      #expect(result.stdoutText.contains("\(nodes[1].name)\n"))
      // --trust-new does not accept a changed key either.
      let trusting = try lab.piswarm(["--file", file, "exec", nodes[0].name, "--trust-new", "--", "true"])
      #expect(trusting.status == 1)
      #expect(lab.state.read("known_hosts") == forged.joined(separator: "\n") + "\n")

      // An unknown key is refused, then recorded with --trust-new, which says so.
      let withoutFirst = lines.filter { !$0.hasPrefix("\(nodes[0].ip) ") }
      try (withoutFirst.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
      let unknown = try lab.piswarm(["--file", file, "exec", nodes[0].name, "--", "true"])
      #expect(unknown.stderrText.contains("host-key-unknown"))
      let trusted = try lab.piswarm(["--file", file, "exec", nodes[0].name, "--trust-new", "--", "true"])
      #expect(trusted.status == 0, "\(trusted.stderrText)")
      #expect(trusted.stderrText.contains("recorded its host key SHA256:"))
      #expect(lab.state.read("known_hosts")?.contains("\(nodes[0].ip) ssh-ed25519 ") == true)
    }
  }

  @Test func ctrlCMidRunLeavesNoSSHProcessesBehind() throws {
    guard Prerequisites.require() else { return }
    try withLab(nodes: 3) { lab, file, nodes in
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = lab.state.path
      let log = lab.state.file("exec.log")
      let pid = try Processes.spawnDetached(
        [LabIntegrationTests.binary, "--file", file, "exec", "all", "--", "sleep", "30"], environment: environment, log: log)
      // Wait until every node runs the command.
      let deadline = Date().addingTimeInterval(10)
      while Date() < deadline && nodes.contains(where: { nodeProcesses(lab, $0.name, named: "sleep").count < 2 }) {
        usleep(50_000)
      }
      #expect(sshProcesses(lab).count >= 3)
      let interrupted = Date()
      kill(pid, SIGINT)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
      #expect(Date().timeIntervalSince(interrupted) < 5)
      #expect((status >> 8) & 0xFF == 130, "status \(status): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
      usleep(300_000)
      #expect(sshProcesses(lab).isEmpty, "left: \(sshProcesses(lab).map { Processes.commandLine($0) })")
    }
  }
}
