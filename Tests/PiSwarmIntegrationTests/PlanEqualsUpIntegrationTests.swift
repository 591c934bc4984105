import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `up` runs exactly what `plan` printed just before on the same lab: the actions its journal
/// records (by identity, in order) are `plan --json`'s, from scratch, after a manager's dockerd
/// was killed (and once it is back), and after a label change in cluster.yml.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct PlanEqualsUpIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  @Test func upsJournalIsThePlanFromScratchAfterAKilledManagerAndAfterALabelChange() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 5, managers: 3)
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)

    /// plan --json's actions, then up's journal; both as "NODE ACTION".
    func planThenUp(expectFailure: Bool = false) throws -> (planned: [String], journaled: [String]) {
      let plan = try lab.piswarm(["--file", file, "plan", "--json"])
      let rows = try JSONSerialization.jsonObject(with: plan.stdout) as? [[String: String]] ?? []
      let planned = rows.compactMap { row in row["action"].map { "\(row["node"] ?? "?") \($0)" } }
      let run = try lab.piswarm(["--file", file, "up"])
      #expect((run.status != 0) == expectFailure, "\(run.stderrText)")
      let last = try #require(try store.runs(limit: 1).first)
      #expect(last.command.hasSuffix(" up"))
      let journaled = try store.steps(run: try #require(last.id)).filter { $0.step != "ready" }.map { "\($0.node) \($0.step)" }
      #expect(journaled == planned, "plan: \(plan.stdoutText)\nup: \(run.stderrText)")
      return (planned, journaled)
    }

    // From scratch.
    let scratch = try planThenUp()
    #expect(scratch.planned.contains("node01 init node01"), "\(scratch.planned)")
    #expect(scratch.planned.contains("node02 join node02 as manager"), "\(scratch.planned)")
    #expect(scratch.planned.contains("node05 join node05 as worker"), "\(scratch.planned)")
    #expect(scratch.planned.last == "swarm rotate join tokens", "\(scratch.planned)")
    #expect(try planThenUp().planned.isEmpty)

    // A manager's dockerd is killed: it is left alone, and says why; then it is back.
    #expect(try lab.piswarm(["lab", "kill", "--name", lab.name, "node02"]).status == 0)
    let killed = try planThenUp(expectFailure: true)
    #expect(killed.planned == ["node02 refuse node02"], "\(killed.planned)")
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, "node02"]).status == 0)
    _ = try planThenUp()

    // A label change in cluster.yml.
    let text = try String(contentsOfFile: file, encoding: .utf8)
    try text.replacingOccurrences(of: "  - name: node04\n", with: "  - name: node04\n    labels: { disk: ssd }\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let relabelled = try planThenUp()
    #expect(relabelled.planned == ["node04 labels node04"], "\(relabelled.planned)")
    #expect(try planThenUp().planned.isEmpty)
  }
}
