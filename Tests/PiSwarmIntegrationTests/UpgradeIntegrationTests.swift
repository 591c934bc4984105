import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm upgrade --packages` on a lab swarm of namespace nodes (real sshd and dockerd, the lab
/// power driver as the nodes' power: off and on are `lab stop|start`): the nodes go one at a time,
/// the canary first and the manager last; each is drained, upgraded (apt-get --simulate: lab
/// nodes share the head's /usr), restarted only when /run/reboot-required asks for it, checked,
/// made active again, and the services are back before the next one; the run stops at the first
/// failure and leaves the rest untouched.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct UpgradeIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  struct Outcome: Decodable {
    var node: String
    var step: String
    var status: String
    var detail: String?
  }

  func outcomes(_ output: Command.Output) -> [Outcome] {
    output.stdoutText.split(separator: "\n").compactMap { try? JSONDecoder().decode(Outcome.self, from: Data($0.utf8)) }
  }

  @Test func packagesGoOneNodeAtATimeManagersLastAndStopAtTheFirstFailure() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 3, managers: 1)
    let ip = { (n: Int) in "10.231.\(SwarmIntegrationTests().index(of: lab)).1\(n)" }
    let up = try lab.piswarm(["--file", file, "up"], timeout: 600)
    try #require(up.status == 0, "\(up.stderrText)")
    let service = try lab.ssh(
      ip(1),
      "docker service create --detach --no-resolve-image --stop-signal SIGKILL --name web --replicas 2 piswarm/base:latest sleep 100000"
    )
    try #require(service.status == 0, "\(service.stderrText)")

    // The dry run: the canary, then the other worker, then the manager; nothing changes.
    let dry = try lab.piswarm(["--file", file, "upgrade", "--packages", "--canary", "node03", "--dry-run", "--json"])
    #expect(dry.status == 0, "\(dry.stderrText)")
    let plan = try JSONSerialization.jsonObject(with: dry.stdout) as? [String: Any] ?? [:]
    #expect(plan["order"] as? [String] == ["node03", "node02", "node01"], "\(dry.stdoutText)")
    #expect(dry.stderrText.contains("1 manager"), "\(dry.stderrText)")

    // Asked for nothing on a non-terminal without --yes.
    let unasked = try lab.piswarm(["--file", file, "upgrade", "--packages"])
    #expect(unasked.status == 64 && unasked.stderrText.contains("--yes"), "\(unasked.stderrText)")

    // node03 asks for a restart (its /run is its own; a restart gives it a fresh one).
    #expect(try lab.ssh(ip(3), "touch /run/reboot-required && cat /proc/1/stat | cut -d' ' -f22").status == 0)
    let started = try lab.ssh(ip(3), "cat /proc/1/stat | cut -d' ' -f22").stdoutText
    let run = try lab.piswarm(
      ["--file", file, "upgrade", "--packages", "--apt", "simulate", "--canary", "node03", "--yes", "--json", "--wait", "60"],
      timeout: 900)
    #expect(run.status == 0, "\(run.stderrText)")
    let steps = outcomes(run)
    #expect(steps.map(\.node).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } } == ["node03", "node02", "node01"])
    #expect(steps.allSatisfy { $0.status == "done" || $0.status == "skipped" }, "\(run.stdoutText)")
    #expect(steps.first { $0.node == "node03" && $0.step == "reboot" }?.status == "done", "\(run.stdoutText)")
    #expect(steps.filter { $0.step == "reboot" && $0.status == "skipped" }.map(\.node) == ["node02", "node01"])
    #expect(steps.first { $0.node == "node01" && $0.step == "upgrade" }?.detail?.contains("simulated") == true)
    // node03 restarted (a new PID 1, no reboot-required), every node is active, the service is whole.
    #expect(try lab.ssh(ip(3), "test -e /run/reboot-required").status == 1)
    #expect(try lab.ssh(ip(3), "cat /proc/1/stat | cut -d' ' -f22").stdoutText != started)
    let availability = try lab.ssh(ip(1), "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'").stdoutText
    #expect(availability.split(separator: "\n").allSatisfy { $0.hasSuffix(" Ready Active") }, "\(availability)")
    let replicas = try lab.ssh(ip(1), "docker service ls --filter name=web --format '{{.Replicas}}'").stdoutText
    #expect(replicas.hasPrefix("2/2"), "\(replicas)")
    // Journaled, step by step.
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)
    let journaled = try #require(try store.runs(limit: 20).first { $0.command.contains("upgrade --packages --apt") })
    let recorded = try store.steps(run: try #require(journaled.id))
    #expect(recorded.count == steps.count)
    #expect(recorded.first.map { "\($0.node) \($0.step)" } == "node03 upgrade drain")

    // node02's pinned host key is wrong now: it fails the strict SSH of its upgrade. The run
    // stops there; the manager is not touched; node02 stays drained and says so.
    let knownHosts = lab.state.file("known_hosts")
    let pins = try String(contentsOfFile: knownHosts, encoding: .utf8)
    let stranger = lab.state.file("stranger")
    try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger]).check()
    let strangerKey = try String(contentsOfFile: stranger + ".pub", encoding: .utf8).split(separator: " ").prefix(2)
      .joined(separator: " ")
    let wrong =
      pins.split(separator: "\n").map { line in
        line.hasPrefix(ip(2) + " ") ? "\(ip(2)) \(strangerKey)" : String(line)
      }.joined(separator: "\n") + "\n"
    try wrong.write(toFile: knownHosts, atomically: true, encoding: .utf8)
    let stopped = try lab.piswarm(
      ["--file", file, "upgrade", "--packages", "--apt", "simulate", "--yes", "--json", "--wait", "60", "--retries", "0"],
      timeout: 900)
    #expect(stopped.status == 1, "\(stopped.stderrText)")
    let partial = outcomes(stopped)
    #expect(partial.first { $0.status == "failed" }?.node == "node02", "\(stopped.stdoutText)")
    #expect(!partial.contains { $0.node == "node01" }, "the manager was touched: \(stopped.stdoutText)")
    #expect(stopped.stderrText.contains("stopped at node02"), "\(stopped.stderrText)")
    #expect(stopped.stderrText.contains("not started: node01"), "\(stopped.stderrText)")
    #expect(stopped.stderrText.contains("node02 stays drained"), "\(stopped.stderrText)")
    try pins.write(toFile: knownHosts, atomically: true, encoding: .utf8)
  }

  /// The branches of Scripts/upgrade-packages.sh the lab run does not take: a mode it does not
  /// know, and a system without apt-get. (Its `full-upgrade` branch changes the system it runs
  /// on: the lab's nodes share the head's /usr, so it runs only on real nodes and in the e2e.)
  @Test func thePackageScriptRefusesWhatItCannotDo() throws {
    let script = RemoteScript.upgradePackages
    let bogus = try Command(
      "/bin/sh", ["-c", script.text, script.name], environment: ["PISWARM_APT": "dist", "PATH": "/usr/bin:/bin"]
    ).run()
    #expect(bogus.status == 2 && bogus.stderrText.contains("not dist"), "\(bogus.stderrText)")
    let empty = TemporaryDirectory("piswarm-noapt")
    let noApt = try Command(
      "/bin/sh", ["-c", script.text, script.name], environment: ["PISWARM_APT": "simulate", "PATH": empty.path]
    )
    .run()
    #expect(noApt.status == 3 && noApt.stderrText.contains("no apt-get"), "\(noApt.stderrText)")
    let unset = try Command("/bin/sh", ["-c", script.text, script.name], environment: ["PATH": "/usr/bin:/bin"]).run()
    #expect(unset.status != 0 && unset.stderrText.contains("PISWARM_APT"), "\(unset.stderrText)")
  }
}
