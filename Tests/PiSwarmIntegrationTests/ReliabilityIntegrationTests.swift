import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A small seeded generator (SplitMix64), so that a failing chaos or interrupt run can be
/// replayed: the seed is printed, and PISWARM_TEST_SEED sets it.
struct SeededRandom: RandomNumberGenerator {
  var state: UInt64

  init(_ label: String) {
    let given = ProcessInfo.processInfo.environment["PISWARM_TEST_SEED"].flatMap { UInt64($0) }
    state = given ?? UInt64.random(in: 1...UInt64.max)
    print("\(label): seed \(state) (PISWARM_TEST_SEED=\(state) replays it)")
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// piswarm under stress: nodes and dockerds vanishing during `up`, and Ctrl-C at random points
/// of `up` (and of `netboot apply`, below). No run may die of a signal (exit >= 128 other than the 130 of an
/// interrupt); every rerun converges and leaves nothing half-done behind.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct ReliabilityIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  /// Runs piswarm with `arguments` and SIGINT after `delay` seconds (by `timeout`, which signals
  /// only piswarm). The status is piswarm's own.
  static func interrupted(_ lab: Lab, _ arguments: [String], after delay: Double) throws -> Command.Output {
    var environment = ProcessInfo.processInfo.environment
    environment["PISWARM_STATE_DIR"] = lab.state.path
    environment["PISWARM_FILE"] = nil
    environment["DOCKER_CONFIG"] = lab.dockerConfig
    return try Command(
      "timeout", ["--preserve-status", "-s", "INT", String(format: "%.3f", delay), LabIntegrationTests.binary] + arguments,
      environment: environment, timeout: 300
    ).run()
  }

  /// What the swarm looks like from `manager`: each node's role and labels.
  static func swarmView(_ lab: Lab, manager: String) throws -> [String: String] {
    let listing = try lab.ssh(
      manager,
      "for n in $(docker node ls -q); do docker node inspect $n --format '{{.Description.Hostname}} {{.Spec.Role}} {{.Status.State}} {{json .Spec.Labels}}'; done"
    )
    var view: [String: String] = [:]
    for line in listing.stdoutText.split(separator: "\n") {
      let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
      if fields.count == 2 { view[fields[0]] = fields[1] }
    }
    return view
  }

  /// A 7-node lab (3 managers); `up` runs again and again while a bounded loop stops, starts
  /// and kills random nodes and dockerds for 10 rounds. No `up` may die of a signal; once every
  /// node is back, `up` converges to exactly the cluster file.
  @Test func upSurvivesNodesAndDockerdsVanishingAndThenConverges() throws {
    guard Prerequisites.require() else { return }
    var random = SeededRandom("chaos")
    let lab = Lab()
    defer { lab.down() }
    let made = try lab.piswarm(["lab", "up", "--name", lab.name, "--nodes", "7", "--managers", "3"], timeout: 600)
    try #require(made.status == 0, "\(made.stderrText)")
    let file = made.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    let list = try lab.piswarm(["--file", file, "node", "ls", "--json"])
    let nodes = try JSONDecoder().decode([NodeListing.Entry].self, from: list.stdout)
    try #require(nodes.count == 7)
    let first = try lab.piswarm(["--file", file, "up"], timeout: 600)
    try #require(first.status == 0, "\(first.stderrText)")

    // `up` in a loop on its own thread until the chaos is over.
    final class Shared: Sendable {
      let statuses = Mutex<[Int32]>([])
      let stop = Atomic<Bool>(false)
    }
    let shared = Shared()
    let finished = DispatchSemaphore(value: 0)
    let runner = Thread {
      while !shared.stop.load(ordering: .relaxed) {
        let status =
          (try? lab.piswarm(["--file", file, "up", "--connect-timeout", "2", "--retries", "0", "--timeout", "60"], timeout: 300))?
          .status ?? -1
        shared.statuses.withLock { $0.append(status) }
      }
      finished.signal()
    }
    runner.start()
    let deadline = Date().addingTimeInterval(240)
    for round in 1...10 where Date() < deadline {
      let node = nodes[Int.random(in: 0..<nodes.count, using: &random)].name
      let action = ["stop", "start", "kill"][Int.random(in: 0..<3, using: &random)]
      let result = try lab.piswarm(["lab", action, "--name", lab.name, node], timeout: 120)
      print("chaos round \(round): lab \(action) \(node) -> \(result.status)")
      usleep(useconds_t(Int.random(in: 300_000...2_500_000, using: &random)))
    }
    // At least one up ran through the chaos.
    while shared.statuses.withLock({ $0.isEmpty }) && Date() < deadline.addingTimeInterval(120) { usleep(200_000) }
    shared.stop.store(true, ordering: .relaxed)
    finished.wait()
    let seen = shared.statuses.withLock { $0 }
    print("chaos: up exited \(seen)")
    #expect(!seen.isEmpty)
    #expect(seen.allSatisfy { (0...1).contains($0) }, "an up died or failed oddly: \(seen)")

    // Everything back on; up converges to exactly the cluster file.
    for node in nodes {
      let started = try lab.piswarm(["lab", "start", "--name", lab.name, node.name], timeout: 120)
      #expect(started.status == 0, "\(node.name): \(started.stderrText)")
    }
    let final = try lab.piswarm(["--file", file, "up"], timeout: 600)
    #expect(final.status == 0, "\(final.stderrText)")
    let again = try lab.piswarm(["--file", file, "up"], timeout: 600)
    #expect(again.status == 0 && again.stderrText.contains("no changes"), "\(again.stderrText)")
    let view = try Self.swarmView(lab, manager: nodes[0].ip)
    #expect(view.keys.sorted() == nodes.map(\.name).sorted(), "\(view)")
    for (index, node) in nodes.enumerated() {
      let role = index < 3 ? "manager" : "worker"
      #expect(view[node.name]?.hasPrefix("\(role) ready ") == true, "\(node.name): \(view[node.name] ?? "missing")")
      #expect(view[node.name]?.contains("\"lab\":\"\(lab.name)\"") == true, "\(node.name): \(view[node.name] ?? "missing")")
    }
  }

  /// SIGINT at random points of `up`, 10 times: each interrupted run ends with 0 (it finished
  /// first) or 130, never another signal; the next run converges (exit 0) and a plan after it
  /// has nothing to do; nothing of piswarm's is left running.
  @Test func upInterruptedAtRandomPointsConvergesOnTheNextRun() throws {
    guard Prerequisites.require() else { return }
    var random = SeededRandom("interrupted up")
    let lab = Lab()
    defer { lab.down() }
    let made = try lab.piswarm(["lab", "up", "--name", lab.name, "--nodes", "3", "--managers", "1"], timeout: 600)
    try #require(made.status == 0, "\(made.stderrText)")
    let file = made.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    let list = try lab.piswarm(["--file", file, "node", "ls", "--json"])
    let nodes = try JSONDecoder().decode([NodeListing.Entry].self, from: list.stdout)
    for round in 1...10 {
      // Something for up to do: a worker out of the swarm (every other round).
      if round % 2 == 1, round > 1 {
        let worker = nodes[Int.random(in: 1..<nodes.count, using: &random)]
        _ = try lab.ssh(worker.ip, "docker swarm leave --force >/dev/null 2>&1 || true")
      }
      let delay = Double.random(in: 0.02...1.5, using: &random)
      let stopped = try Self.interrupted(lab, ["--file", file, "up"], after: delay)
      print("interrupted up round \(round) after \(String(format: "%.2f", delay)) s -> \(stopped.status)")
      #expect([0, 1, 130].contains(stopped.status), "round \(round): \(stopped.status) \(stopped.stderrText)")
      #expect(
        Processes.all().filter { Processes.isAlive($0) && Processes.name($0) == "piswarm" }
          .filter { Processes.commandLine($0).contains { $0.contains(lab.state.path) } }.isEmpty)
      let rerun = try lab.piswarm(["--file", file, "up"], timeout: 600)
      #expect(rerun.status == 0, "round \(round): \(rerun.stderrText)")
      let plan = try lab.piswarm(["--file", file, "plan", "--json"])
      let steps = try JSONSerialization.jsonObject(with: plan.stdout) as? [[String: String]] ?? []
      #expect(
        steps.filter { $0["step"] == "swarm" }.allSatisfy { $0["change"] == "unchanged" },
        "round \(round): \(plan.stdoutText)\nthe rerun: \(rerun.stdoutText)\(rerun.stderrText)")
    }
  }
}

/// In the roots suite, which runs one test at a time: its ganesha test makes a mount namespace,
/// which copies the mounts of whatever runs beside it.
extension RootsIntegrationTests {
  /// SIGINT at random points of `netboot apply` making overlay roots (loop-mounted lower
  /// layer, a temporary overlay per new upper), 10 times, a root removed before each: the run
  /// ends with 0 or 130; no `.tmp-*` copy, temporary file, stray mount or loop device is left;
  /// the next run converges and the one after changes nothing.
  @Test func netbootApplyInterruptedAtRandomPointsConvergesOnTheNextRun() throws {
    guard Prerequisites.require(images: true) else { return }
    var random = SeededRandom("interrupted netboot apply")
    let fixture = Fixture()
    let filesystem = try LoopFilesystem(type: "ext4", megabytes: 200)
    defer { filesystem.remove(checking: fixture) }
    let nfsRoot = filesystem.mountPoint
    try fixture.prepare(nfsRoot: nfsRoot)
    // The head's files in the test's own folders.
    let text = try String(contentsOfFile: fixture.clusterFile, encoding: .utf8)
      .replacingOccurrences(
        of: "  nfs_root: \(nfsRoot)\n",
        with:
          "  nfs_root: \(nfsRoot)\n  tftp_root: \(fixture.scratch.file("tftp"))\n  dnsmasq_conf: \(fixture.scratch.file("dnsmasq.conf"))\n"
      )
    try text.write(toFile: fixture.clusterFile, atomically: true, encoding: .utf8)
    let apply = ["netboot", "apply", "--files-only", "--roots", "--dnsmasq-option", "no-ping"]
    let first = try fixture.piswarm(apply)
    try #require(first.status == 0, "\(first.stderrText)")
    let expectedMounts = Set(Mounts.points().filter { $0 == nfsRoot || $0.hasPrefix(nfsRoot + "/") })
    let expectedLoops = Set(Leftovers.loopDevices(below: filesystem.folder.path).map(\.device))
      .union(Leftovers.loopDevices(below: fixture.state.path).map(\.device))

    func strays() -> [String] {
      var found: [String] = []
      for folder in [
        nfsRoot, nfsRoot + "/.base", nfsRoot + "/.upper", nfsRoot + "/.lower", fixture.state.path, fixture.state.path + "/images",
        fixture.state.path + "/netboot", fixture.scratch.file("tftp"),
      ] {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        where name.hasPrefix(".tmp-") || name.hasPrefix(".mnt-") || name.contains(".piswarm-") || name.hasPrefix(".hostkey-") {
          found.append("\(folder)/\(name)")
        }
      }
      let mounts = Set(
        Mounts.points().filter { $0 == nfsRoot || $0.hasPrefix(nfsRoot + "/") || $0.hasPrefix(fixture.state.path + "/") })
      found += mounts.subtracting(expectedMounts).map { "mount \($0)" }
      let loops = Leftovers.loopDevices(below: filesystem.folder.path) + Leftovers.loopDevices(below: fixture.state.path)
      found += loops.filter { !expectedLoops.contains($0.device) && !$0.autoclear }.map {
        "loop device \($0.device) (\($0.file))"
      }
      return found
    }

    for round in 1...10 {
      // One to three roots to make again: the interrupt lands among copies, mounts and writes.
      let node = [["node01"], ["node01", "node02"], ["node01", "node02", "node03"]][Int.random(in: 0..<3, using: &random)]
      let removed = try fixture.piswarm(["root", "rm"] + node)
      #expect(removed.status == 0, "\(removed.stderrText)")
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = fixture.state.path
      environment["PISWARM_FILE"] = fixture.clusterFile
      let delay = Double.random(in: 0.01...0.4, using: &random)
      let stopped = try Command(
        "timeout", ["--preserve-status", "-s", "INT", String(format: "%.3f", delay), TestBinary.piswarm()] + apply,
        environment: environment, timeout: 120
      ).run()
      print(
        "interrupted netboot apply round \(round) (\(node) removed) after \(String(format: "%.2f", delay)) s -> \(stopped.status)"
      )
      #expect([0, 130].contains(stopped.status), "round \(round): \(stopped.status) \(stopped.stderrText)")
      let left = strays()
      #expect(left.isEmpty, "round \(round): the interrupted run left \(left): \(stopped.stderrText)")
      let rerun = try fixture.piswarm(apply)
      #expect(rerun.status == 0, "round \(round): \(rerun.stderrText)")
      let calm = try fixture.piswarm(apply + ["--json"])
      #expect(calm.status == 0)
      let changes = (try? JSONSerialization.jsonObject(with: calm.stdout) as? [String: Any])?["changes"] as? [Any]
      #expect(changes?.isEmpty == true, "round \(round): \(calm.stdoutText.prefix(400))")
      let roots = calm.stderrText.split(separator: "\n").filter { $0.contains("identity file(s) written") }
      #expect(
        roots.count == 3 && roots.allSatisfy { $0.contains(": exists") && $0.contains(" 0 identity") },
        "round \(round): \(calm.stderrText)")
      #expect(strays().isEmpty, "round \(round): \(strays())")
    }
  }
}
