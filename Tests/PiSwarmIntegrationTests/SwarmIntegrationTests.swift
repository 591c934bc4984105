import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm up` forming a real swarm from lab nodes' dockerds.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct SwarmIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  @Test func fiveNodesFormASwarmWithRolesAndLabelsAndConvergeAgainAfterFailures() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 5, managers: 3)
    // A label of its own on node04, beside the lab's swarm-wide one.
    let text = try String(contentsOfFile: file, encoding: .utf8)
    try text.replacingOccurrences(of: "  - name: node04\n", with: "  - name: node04\n    labels: { disk: ssd }\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let ip = { (n: Int) in "10.231.\(self.index(of: lab)).1\(n)" }

    // plan says what up will do, and changes nothing.
    let plan = try lab.piswarm(["--file", file, "plan", "--json"])
    #expect(plan.status == 0, "\(plan.stderrText)")
    let planned = try JSONSerialization.jsonObject(with: plan.stdout) as? [[String: String]] ?? []
    #expect(planned.contains { $0["node"] == "node01" && $0["change"] == "init" })
    #expect(planned.contains { $0["node"] == "node02" && $0["change"] == "join as manager" })
    #expect(planned.contains { $0["node"] == "node05" && $0["change"] == "join as worker" })
    #expect(try lab.ssh(ip(1), "docker info --format '{{.Swarm.LocalNodeState}}'").stdoutText == "inactive\n")

    let first = try lab.piswarm(["--file", file, "up"])
    #expect(first.status == 0, "\(first.stderrText)")
    #expect(!first.stderrText.contains("SWMTKN") && !first.stdoutText.contains("SWMTKN"), "a join token was printed")
    let list = try lab.ssh(ip(1), "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")
    let rows = list.stdoutText.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.sorted { $0[0] < $1[0] }
    #expect(rows.map { $0[0] } == ["node01", "node02", "node03", "node04", "node05"], "\(list.stdoutText)")
    #expect(rows.allSatisfy { $0.count > 1 && $0[1] == "Ready" })
    #expect(rows.prefix(3).allSatisfy { $0.count == 3 && ["Leader", "Reachable"].contains($0[2]) })
    #expect(rows.suffix(2).allSatisfy { $0.count == 2 })
    // The run is journaled: one swarm step per node.
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)
    let run = try #require(try store.runs(limit: 10).first { $0.command.hasSuffix(" up") })
    #expect(run.status == .succeeded)
    #expect(
      try store.steps(run: try #require(run.id)).map(\.step) == planned.compactMap { $0["action"] }, "\(planned)")
    let labels = try lab.ssh(ip(1), "docker node inspect node04 --format '{{json .Spec.Labels}}'").stdoutText
    #expect(labels.contains("\"disk\":\"ssd\"") && labels.contains("\"lab\":\"\(lab.name)\""), "\(labels)")

    // Again: nothing to change.
    let second = try lab.piswarm(["--file", file, "up"])
    #expect(second.status == 0)
    #expect(second.stderrText.contains("no changes"), "\(second.stderrText)")
    let calm = try lab.piswarm(["--file", file, "plan", "--json"])
    let calmSteps = try JSONSerialization.jsonObject(with: calm.stdout) as? [[String: String]] ?? []
    let calmActions = calmSteps.filter { $0["step"] != "preflight" }
    #expect(calmActions.count == 5 && calmActions.allSatisfy { $0["change"] == "unchanged" }, "\(calm.stdoutText)")

    // A manager's dockerd crashes: up names it and exits 1; the swarm keeps quorum.
    #expect(try lab.piswarm(["lab", "kill", "--name", lab.name, "node02"]).status == 0)
    let degraded = try lab.piswarm(["--file", file, "up"])
    #expect(degraded.status == 1)
    #expect(degraded.stderrText.contains("node02:"), "\(degraded.stderrText)")
    #expect(try lab.ssh(ip(1), "docker node ls -q | wc -l").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
    let status = try lab.piswarm(["--file", file, "status", "--json"])
    #expect(status.status == 1)
    let statusRows = try JSONSerialization.jsonObject(with: status.stdout) as? [[String: Any]] ?? []
    #expect(statusRows.first { $0["node"] as? String == "node02" }?["docker"] as? String == "down", "\(status.stdoutText)")
    #expect(statusRows.first { $0["node"] as? String == "node01" }?["role"] as? String == "manager")
    #expect(statusRows.contains { $0["leader"] as? Bool == true })
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, "node02"]).status == 0)
    let healed = try lab.piswarm(["--file", file, "up"])
    #expect(healed.status == 0, "\(healed.stderrText)")

    // A worker unreachable during up that piswarm cannot switch on (power: none; with its lab
    // driver up would start it, see PowerIntegrationTests): the others complete, and a re-run
    // once it is back completes it.
    let labeled = try String(contentsOfFile: file, encoding: .utf8)
    try labeled.replacingOccurrences(of: "  - name: node05\n", with: "  - name: node05\n    power: none\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    #expect(try lab.piswarm(["lab", "stop", "--name", lab.name, "node05"]).status == 0)
    let partial = try lab.piswarm(["--file", file, "up", "--connect-timeout", "2", "--retries", "0"])
    #expect(partial.status == 1)
    #expect(partial.stderrText.contains("node05:") && partial.stderrText.contains("power: none"), "\(partial.stderrText)")
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, "node05"]).status == 0)
    let complete = try lab.piswarm(["--file", file, "up"])
    #expect(complete.status == 0, "\(complete.stderrText)")

    // Drain moves tasks away; rm demotes a manager, makes it leave and removes it.
    let service = try lab.ssh(
      ip(1),
      "docker service create --detach --no-resolve-image --stop-signal SIGKILL --name spread --replicas 5 piswarm/base:latest sleep 100000"
    )
    #expect(service.status == 0, "\(service.stderrText)")
    let drain = try lab.piswarm(["--file", file, "swarm", "drain", "node04"])
    #expect(drain.status == 0, "\(drain.stderrText)")
    let onNode4 = try lab.ssh(ip(1), "docker node ps node04 --filter desired-state=running -q | wc -l")
    #expect(onNode4.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    let remove = try lab.piswarm(["--file", file, "swarm", "rm", "node03"])
    #expect(remove.status == 0, "\(remove.stderrText)")
    #expect(remove.stderrText.contains("demoted"))
    let left = try lab.ssh(ip(1), "docker node ls --format '{{.Hostname}}'").stdoutText.split(separator: "\n").sorted()
    #expect(left == ["node01", "node02", "node04", "node05"])
    #expect(try lab.ssh(ip(3), "docker info --format '{{.Swarm.LocalNodeState}}'").stdoutText == "inactive\n")
  }

  @Test func autolockedManagersAreUnlockedAfterARestartAndNoTokenOrKeyIsEverShown() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 4, managers: 3)
    let text = try String(contentsOfFile: file, encoding: .utf8)
    try #require(text.contains("  advertise: eth0\n"))
    try text.replacingOccurrences(of: "  advertise: eth0\n", with: "  advertise: eth0\n  autolock: true\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let ip = { (n: Int) in "10.231.\(self.index(of: lab)).1\(n)" }
    var shown = ""
    func run(_ arguments: [String]) throws -> Command.Output {
      let result = try lab.piswarm(["--file", file] + arguments)
      shown += result.stdoutText + result.stderrText
      return result
    }
    func steps(_ result: Command.Output) throws -> [[String: String]] {
      try JSONSerialization.jsonObject(with: result.stdout) as? [[String: String]] ?? []
    }
    func remote(_ n: Int, _ command: String) throws -> String {
      try lab.ssh(ip(n), command).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    let planned = try steps(try run(["plan", "--json"]))
    #expect(planned.contains { $0["node"] == "swarm" && $0["change"] == "enable autolock" }, "\(planned)")
    let first = try run(["up"])
    #expect(first.status == 0, "\(first.stderrText)")
    #expect(try remote(1, "docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'") == "true")
    let key = try remote(1, "docker swarm unlock-key -q")
    #expect(key.hasPrefix("SWMKEY-"))
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)
    #expect(Bool(try store.swarmValue(.unlockKey) == key), "the state store does not keep the swarm's unlock key")
    #expect(try store.swarmValue(.rotationOwed) == nil)

    // A manager's dockerd restarts: it comes back locked; up unlocks it and it is Ready again.
    #expect(try lab.piswarm(["lab", "kill", "--name", lab.name, "node02"]).status == 0)
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, "node02"]).status == 0)
    #expect(try remote(2, "docker info --format '{{.Swarm.LocalNodeState}}'") == "locked")
    let status = try run(["status", "--json"])
    #expect(status.status == 1)
    let rows = try JSONSerialization.jsonObject(with: status.stdout) as? [[String: Any]] ?? []
    #expect(rows.first { $0["node"] as? String == "node02" }?["state"] as? String == "locked", "\(status.stdoutText)")
    let unlockPlan = try steps(try run(["plan", "--json"]))
    #expect(unlockPlan.contains { $0["node"] == "node02" && $0["change"] == "unlock" }, "\(unlockPlan)")
    let unlocked = try run(["up", "--json"])
    #expect(unlocked.status == 0, "\(unlocked.stderrText)")
    let outcomes = try JSONSerialization.jsonObject(with: unlocked.stdout) as? [[String: Any]] ?? []
    #expect(
      outcomes.contains { $0["action"] as? String == "unlock node02" && $0["status"] as? String == "done" }, "\(outcomes)")
    #expect(try remote(2, "docker info --format '{{.Swarm.LocalNodeState}}'") == "active")
    #expect(try remote(1, "docker node inspect node02 --format '{{.Status.State}}'") == "ready")

    // A worker rejoins: the token it was sent is rotated away.
    let sentWorker = try remote(1, "docker swarm join-token -q worker")
    let sentManager = try remote(1, "docker swarm join-token -q manager")
    _ = try lab.ssh(ip(4), "docker swarm leave --force")
    _ = try lab.ssh(ip(1), "docker node rm --force node04")
    let rejoined = try run(["up"])
    #expect(rejoined.status == 0, "\(rejoined.stderrText)")
    #expect(try remote(4, "docker info --format '{{.Swarm.LocalNodeState}}'") == "active")
    #expect(Bool(try remote(1, "docker swarm join-token -q worker") != sentWorker), "the sent worker token is still valid")
    #expect(try store.swarmValue(.rotationOwed) == nil)

    // A run killed after it recorded that tokens go out: the next one rotates, with nothing to join.
    try store.setSwarmValue(.rotationOwed, "yes")
    let owedPlan = try steps(try run(["plan", "--json"]))
    #expect(owedPlan.contains { $0["change"] == "rotate join tokens" }, "\(owedPlan)")
    let before = try remote(1, "docker swarm join-token -q worker")
    let owed = try run(["up"])
    #expect(owed.status == 0, "\(owed.stderrText)")
    #expect(Bool(try remote(1, "docker swarm join-token -q worker") != before), "the owed rotation was not done")
    #expect(try store.swarmValue(.rotationOwed) == nil)

    // No token and no unlock key in any output or in the journal.
    var journal = ""
    for run in try store.runs(limit: 100) {
      journal += run.command + "\n"
      for step in try store.steps(run: run.id ?? -1) { journal += "\(step.status) \(step.error ?? "")\n" }
    }
    journal += try store.events(node: nil, limit: 10_000).map(\.detail).joined(separator: "\n")
    for secret in [key, sentWorker, sentManager, before] {
      #expect(!shown.contains(secret), "a secret was printed")
      #expect(!journal.contains(secret), "a secret is in the journal")
    }
    #expect(!shown.contains("SWMTKN") && !shown.contains("SWMKEY"))

    // up itself restarts the managers' dockerds (daemon.json changes): each comes back locked
    // and is unlocked before the next one restarts.
    try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(
      of: "\nnodes:\n", with: "\ndocker:\n  log_max_files: 4\nnodes:\n"
    )
    .write(toFile: file, atomically: true, encoding: .utf8)
    let restarted = try run(["up", "--json"])
    #expect(restarted.status == 0, "\(restarted.stderrText)")
    let restartRows = try JSONSerialization.jsonObject(with: restarted.stdout) as? [[String: Any]] ?? []
    for name in ["node01", "node02", "node03"] {
      let notes = restartRows.first { $0["action"] as? String == "docker \(name)" }?["notes"] as? [String] ?? []
      #expect(notes.contains("unlocked"), "\(name): \(restarted.stdoutText)")
    }
    let states = try remote(1, "docker node ls --format '{{.Hostname}} {{.Status}}'")
    #expect(states.split(separator: "\n").allSatisfy { $0.hasSuffix(" Ready") }, "\(states)")

    // autolock: false turns it off again, and the key is forgotten.
    try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "  autolock: true\n", with: "  autolock: false\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let off = try run(["up"])
    #expect(off.status == 0, "\(off.stderrText)")
    #expect(try remote(1, "docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'") == "false")
    #expect(try store.swarmValue(.unlockKey) == nil)
  }

  /// The lab's subnet index, from its state file.
  func index(of lab: Lab) -> Int {
    let path = "\(lab.state.path)/labs/\(lab.name)/lab.json"
    guard let data = FileManager.default.contents(atPath: path),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return 0 }
    return object["index"] as? Int ?? 0
  }
}
