import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

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

  /// A 3-node lab swarm (node01 the manager) after `piswarm up`: its cluster file and the
  /// address of node N.
  func swarm(_ lab: Lab) throws -> (file: String, ip: (Int) -> String) {
    let file = try lab.up(nodes: 3, managers: 1)
    let index = SwarmIntegrationTests().index(of: lab)
    let up = try lab.piswarm(["--file", file, "up"], timeout: 600)
    try #require(up.status == 0, "\(up.stderrText)")
    return (file, { "10.231.\(index).1\($0)" })
  }

  @Test func packagesGoOneNodeAtATimeManagersLastAndStopAtTheFirstFailure() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let (file, ip) = try swarm(lab)
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
    #expect(recorded.first.map { "\($0.node) \($0.step)" } == "node03 upgrade spread")

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

  /// A replicated service whose every task runs on the node about to be drained (as after an
  /// earlier node's drain moved them there) is spread first: one more replica, started by the
  /// scheduler on another node, then scaled back, which takes a task off the busier node. The
  /// task list sampled on the manager all through the upgrade never shows the service without
  /// a running task; a 1-replica service on the node is named as briefly unavailable. A service
  /// that can start no task elsewhere (its image is only on that node) stops the run before the
  /// drain, scaled back.
  @Test func aServiceWhoseTasksAllRunOnTheDrainedNodeIsSpreadFirst() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let (file, ip) = try swarm(lab)
    // Every task on node02: the other nodes paused while the services start.
    let others = { (availability: String) in
      "docker node update --availability \(availability) node01 >/dev/null && docker node update --availability \(availability) node03 >/dev/null"
    }
    let placed = try lab.ssh(
      ip(1),
      """
      \(others("pause")) \
      && docker service create --detach --no-resolve-image --stop-signal SIGKILL --name web --replicas 2 piswarm/base:latest sleep 100000 \
      && docker service create --detach --no-resolve-image --stop-signal SIGKILL --name solo --replicas 1 piswarm/base:latest sleep 100000
      """)
    try #require(placed.status == 0, "\(placed.stderrText)")
    let running = { (service: String) throws -> [String] in
      try lab.ssh(ip(1), "docker service ps \(service) --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'")
        .stdoutText.split(separator: "\n").filter { $0.contains(" Running") }.map { String($0.prefix { $0 != " " }) }
    }
    let onNode02 = { try running("web") == ["node02", "node02"] && running("solo") == ["node02"] }
    let placing = Deadline(in: 120)
    while try !onNode02(), !placing.hasPassed { usleep(500_000) }
    let placement = "\(try running("web")) \(try running("solo"))"
    try #require(try onNode02(), "the services do not run on node02: \(placement)")
    let active = try lab.ssh(ip(1), others("active"))
    try #require(active.status == 0, "\(active.stderrText)")

    // The sampler on the manager: web's running tasks straight from its dockerd's API (the docker
    // CLI takes ~0.3 s a call), every 0.05 s, for at most about 10 minutes; "error" when no answer.
    let script = """
      i=0
      while [ "$i" -lt 10000 ]; do
        if tasks=$(curl -sf -m 2 --unix-socket /var/run/docker.sock -G --data-urlencode 'filters={"service":["web"]}' http://docker/v1.41/tasks); then
          echo "$(date +%s.%N) $(printf '%s' "$tasks" | grep -o '"State":"running"' | wc -l)"
        else
          echo "$(date +%s.%N) error"
        fi
        i=$((i + 1))
        sleep 0.05
      done
      """
    let sampler = try lab.ssh(
      ip(1),
      "echo \(Data(script.utf8).base64EncodedString()) | base64 -d >/root/sampler.sh && nohup sh /root/sampler.sh >/root/web-samples 2>&1 </dev/null & echo $!"
    )
    let samplerPID = try #require(
      Int(sampler.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)), "\(sampler.stderrText)")
    defer { _ = try? lab.ssh(ip(1), "kill \(samplerPID)") }
    let sampling = Deadline(in: 30)
    while try lab.ssh(ip(1), "test -s /root/web-samples").status != 0, !sampling.hasPassed { usleep(200_000) }

    let dry = try lab.piswarm(["--file", file, "upgrade", "--packages", "node02", "--dry-run", "--json"])
    let plan = try JSONSerialization.jsonObject(with: dry.stdout) as? [String: Any] ?? [:]
    let planned = (plan["steps"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
    #expect(planned.prefix(2) == ["spread", "drain"], "\(dry.stdoutText)")

    let run = try lab.piswarm(
      ["--file", file, "upgrade", "--packages", "node02", "--apt", "simulate", "--yes", "--json", "--wait", "60"], timeout: 600)
    #expect(run.status == 0, "\(run.stderrText)")
    _ = try lab.ssh(ip(1), "kill \(samplerPID)")
    let steps = outcomes(run)
    let spread = try #require(steps.first { $0.step == "spread" }, "\(run.stdoutText)")
    #expect(spread.status == "done", "\(run.stdoutText)")
    #expect(spread.detail?.contains("web: a task runs on node0") == true, "\(spread.detail ?? "")")
    #expect(spread.detail?.contains("solo has 1 replica") == true, "\(spread.detail ?? "")")
    #expect(steps.map(\.step).prefix(2) == ["spread", "drain"])
    #expect(steps.allSatisfy { $0.status == "done" || $0.status == "skipped" }, "\(run.stdoutText)")
    #expect(run.stderrText.contains("solo has 1 replica"), "the warning is not in the output: \(run.stderrText)")

    let lines = try lab.ssh(ip(1), "cat /root/web-samples").stdoutText.split(separator: "\n")
    let samples = lines.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
    #expect(lines.count - samples.count <= lines.count / 10, "the manager's API did not answer: \(lines.suffix(20))")
    #expect(samples.count >= 50, "too few samples to say anything: \(samples)")
    #expect(
      samples.allSatisfy { $0 >= 1 }, "web had no running task at \(samples.filter { $0 == 0 }.count) of \(samples.count) samples"
    )
    print("spread: \(spread.detail ?? ""); web's running tasks sampled \(samples.count) times, fewest \(samples.min() ?? -1)")
    // Back at its replicas, none of them on node02 any more, nothing left scaled up.
    #expect(
      try lab.ssh(ip(1), "docker service inspect web --format '{{.Spec.Mode.Replicated.Replicas}}'").stdoutText.hasPrefix("2"))
    let after = try running("web")
    #expect(after.count == 2 && !after.contains("node02"), "\(after)")

    // A service whose image only node02 has: its tasks start nowhere else. The spread gives up
    // after --wait, scales the service back and stops the run before the drain.
    #expect(try lab.ssh(ip(2), "docker tag piswarm/base:latest piswarm/only-here:1").status == 0)
    let local = try lab.ssh(
      ip(1),
      "\(others("pause")) && docker service create --detach --no-resolve-image --stop-signal SIGKILL --name local --replicas 2 piswarm/only-here:1 sleep 100000"
    )
    try #require(local.status == 0, "\(local.stderrText)")
    let localPlacing = Deadline(in: 120)
    while try running("local") != ["node02", "node02"], !localPlacing.hasPassed { usleep(500_000) }
    let localPlacement = try running("local")
    try #require(localPlacement == ["node02", "node02"], "\(localPlacement)")
    #expect(try lab.ssh(ip(1), others("active")).status == 0)
    let stuck = try lab.piswarm(
      ["--file", file, "upgrade", "--packages", "node02", "--apt", "simulate", "--yes", "--json", "--wait", "15"], timeout: 600)
    #expect(stuck.status == 1, "\(stuck.stderrText)")
    let stuckSteps = outcomes(stuck)
    let failed = stuckSteps.first { $0.status == "failed" }
    #expect(failed?.step == "spread", "\(stuck.stdoutText)")
    #expect(
      failed?.detail?.contains("local started no task on another node than node02 within 15 s") == true, "\(stuck.stdoutText)")
    #expect(failed?.detail?.contains("node02 not drained") == true, "\(stuck.stdoutText)")
    #expect(stuckSteps.filter { $0.status != "not started" }.map(\.step) == ["spread"], "\(stuck.stdoutText)")
    #expect(stuck.stderrText.contains("stopped at node02 (spread)") && !stuck.stderrText.contains("stays drained"))
    #expect(
      try lab.ssh(ip(1), "docker node inspect node02 --format '{{.Spec.Availability}}'").stdoutText.hasPrefix("active"))
    #expect(
      try lab.ssh(ip(1), "docker service inspect local --format '{{.Spec.Mode.Replicated.Replicas}}'").stdoutText.hasPrefix("2"))
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
