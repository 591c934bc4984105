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

/// The netboot step of `plan` and `up` for real, in a `NetbootLab`: `plan` lists each netboot
/// node's root and the netboot files (a dry run: nothing is written), `up --only netboot` runs
/// exactly those actions (its journal is the plan), the files and the root appear, dnsmasq
/// serves a pi-bootrom board its own files from them, and the next `plan` has no netboot action;
/// a root changed behind piswarm's back is planned for convergence, and converged by `up`.
@Suite(.serialized, .enabled(if: NetbootLab.shouldRun)) struct NetbootPlanEqualsUpIntegrationTests {
  @Test func upRunsTheNetbootActionsPlanListedAndTheNextPlanHasNone() throws {
    guard NetbootLab.require() else { return }
    let boot = try DisklessBoot(mac: "b8:27:eb:00:00:01", ip: "\(NetbootLab.subnet).11")
    defer { boot.stop() }
    let lab = boot.lab
    let raw = lab.dir.file("disk.img")
    try TestImage.make(at: raw, scratch: lab.dir.file("parts"))
    let imported = try boot.piswarm(["image", "import", raw, "--name", "test-os"])
    try #require(imported.status == 0, "\(imported.stderrText)")
    // Off, with a power driver: up would switch it on after the netboot step (not with
    // --only netboot).
    try boot.writeCluster(image: "test-os", power: "{ driver: lab, lab: \(boot.clusterName) }")
    let nfs = lab.dir.file("nfs")
    let options = ["--dnsmasq-option", "no-ping", "--connect-timeout", "2", "--retries", "0"]
    func planned(_ extra: [String] = []) throws -> [[String: String]] {
      let plan = try boot.piswarm(["plan", "--json"] + options + extra)
      #expect(plan.status == 0, "\(plan.stderrText)")
      return (try JSONSerialization.jsonObject(with: plan.stdout) as? [[String: String]]) ?? []
    }

    let before = try planned()
    let actions = before.compactMap { row in row["action"].map { "\(row["node"] ?? "?") \($0)" } }
    #expect(
      actions == [
        "node01 root node01", "head netboot files on head", "node01 power on node01", "node01 wait boot node01",
      ], "\(before)")
    #expect(before.first?["change"] == "make its root from test-os")
    let files = before.first { $0["action"] == "netboot files on head" }?["change"] ?? ""
    #expect(
      files.hasPrefix("netboot files: ") && files.contains("change(s) (dnsmasq-hook, exports, ganesha.conf, …)"), "\(files)")
    // plan wrote nothing.
    #expect(!Files.exists(lab.tftpRoot) && !Files.exists(lab.dir.file("etc/dnsmasq.conf")) && !Files.exists(nfs + "/node01"))

    let up = try boot.piswarm(["up", "--only", "netboot"] + options, timeout: 120)
    #expect(up.status == 0, "\(up.stderrText)")
    let store = try SQLiteStateStore(stateDirectory: lab.state)
    let last = try #require(try store.runs(limit: 1).first)
    let journaled = try store.steps(run: try #require(last.id)).map { "\($0.node) \($0.step)" }
    #expect(journaled == Array(actions.prefix(2)), "up: \(up.stderrText)")

    #expect(Files.exists(lab.tftpRoot + "/b8-27-eb-00-00-01/cmdline.txt"))
    #expect(Files.exists(lab.dir.file("etc/dnsmasq.conf")))
    #expect((try? String(contentsOfFile: nfs + "/node01/etc/hostname", encoding: .utf8)) == "node01\n")
    #expect(Files.exists(lab.state + "/hostkeys/node01.pub"))

    // dnsmasq with the files up wrote serves the board its own.
    try lab.startHeadDnsmasq()
    let board = try lab.addBoard(1, mac: "b8:27:eb:00:00:01")
    let (served, status) = try lab.boot(board, ["--model", "pi4", "--serial", "11111111"])
    #expect(status == 0, "\(served)")
    #expect(
      served.file("cmdline.txt")?.content?.contains("nfsroot=\(NetbootLab.subnet).1:\(nfs)/node01,") == true, "\(served.files)")
    #expect(served.file("start4.elf")?.status == "ok", "\(served.files)")

    // Nothing netboot is left to do: only the power step.
    let after = try planned()
    #expect(!after.contains { $0["step"] == "netboot" }, "\(after)")
    #expect(after.compactMap { $0["action"] } == ["power on node01", "wait boot node01"], "\(after)")
    #expect(try planned(["--only", "netboot"]).allSatisfy { $0["action"] == nil })

    // A file of the root's identity changed (by the node, or by hand): plan names it and leaves
    // it; up converges the root, and only it.
    try "someone-else\n".write(toFile: nfs + "/node01/etc/hostname", atomically: false, encoding: .utf8)
    let stale = try planned(["--only", "netboot"]).filter { $0["action"] != nil }
    #expect(stale.map { $0["action"] } == ["root node01"], "\(stale)")
    #expect(stale.first?["change"] == "converge its root (from test-os): 1 file(s) (/etc/hostname)", "\(stale)")
    #expect((try? String(contentsOfFile: nfs + "/node01/etc/hostname", encoding: .utf8)) == "someone-else\n")
    let converge = try boot.piswarm(["up", "--only", "netboot"] + options, timeout: 120)
    #expect(converge.status == 0, "\(converge.stderrText)")
    #expect((try? String(contentsOfFile: nfs + "/node01/etc/hostname", encoding: .utf8)) == "node01\n")
    #expect(try planned(["--only", "netboot"]).allSatisfy { $0["action"] == nil })
  }
}
