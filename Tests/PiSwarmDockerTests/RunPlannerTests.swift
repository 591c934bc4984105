import Foundation
import PiSwarmCore
import PiSwarmDocker
import Testing

/// `RunPlanner` over a table of observed states (read through the fake dockerds), and each plan
/// run by `RunExecutor`: it runs exactly the planned actions, and planning again afterwards
/// finds nothing left to do but the nodes still left alone.
@Suite struct RunPlannerTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var setup: @Sendable () throws -> RunHarness
    /// The plan's action identities, in order.
    var planned: [String]
    /// What is still planned after the run (nodes left alone stay so).
    var after: [String] = []
    var unlocksFirst = false
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "from scratch",
      setup: { try RunHarness(managers: ["node01", "node02", "node03"], nodes: 5, labels: ["node04": "disk: ssd"]) },
      planned: [
        "init node01", "join node02 as manager", "join node03 as manager", "join node04 as worker", "join node05 as worker",
        "labels node04", "rotate join tokens",
      ]),
    Case(
      name: "some joined",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 5)
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2)], workers: [RunHarness.ip(4)])
        return run
      },
      planned: ["join node03 as manager", "join node05 as worker", "rotate join tokens"]),
    Case(
      name: "a manager down",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 4)
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2), RunHarness.ip(3)], workers: [RunHarness.ip(4)])
        run.swarm.state.withLock { $0.engines[RunHarness.ip(2)]?.down = true }
        return run
      },
      planned: ["refuse node02"], after: ["refuse node02"]),
    Case(
      name: "a manager unreachable over SSH",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 4)
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2), RunHarness.ip(3)], workers: [RunHarness.ip(4)])
        run.unreachable["node03"] = "connection timed out"
        return run
      },
      planned: ["refuse node03"], after: ["refuse node03"]),
    Case(
      name: "a locked manager with the key kept",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 3, extra: "  autolock: true")
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2), RunHarness.ip(3)], workers: [])
        Self.autolock(run)
        run.swarm.lock(RunHarness.ip(2))
        return run
      },
      planned: ["unlock node02"]),
    Case(
      name: "a locked manager without a key",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 3, extra: "  autolock: true")
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2), RunHarness.ip(3)], workers: [])
        Self.autolock(run)
        run.memory.setUnlockKey(nil)
        run.swarm.lock(RunHarness.ip(2))
        return run
      },
      // The key is kept from an unlocked manager: the next run can unlock node02.
      planned: ["refuse node02", "keep unlock key"], after: ["unlock node02"]),
    Case(
      name: "every manager locked",
      setup: {
        let run = try RunHarness(managers: ["node01"], nodes: 2, extra: "  autolock: true")
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2)])
        Self.autolock(run)
        run.swarm.lock(RunHarness.ip(1))
        return run
      },
      planned: ["unlock node01"], unlocksFirst: true),
    Case(
      name: "every manager locked and no key",
      setup: {
        let run = try RunHarness(managers: ["node01"], nodes: 2, extra: "  autolock: true")
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2)])
        Self.autolock(run)
        run.memory.setUnlockKey(nil)
        run.swarm.lock(RunHarness.ip(1))
        return run
      },
      planned: ["refuse node01"], after: ["refuse node01"]),
    Case(
      name: "a rotation owed",
      setup: {
        let run = try RunHarness(managers: ["node01"], nodes: 2)
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2)])
        run.memory.setRotationOwed(true)
        return run
      },
      planned: ["rotate join tokens"]),
    Case(
      name: "a label change",
      setup: {
        let run = try RunHarness(managers: ["node01"], nodes: 3, labels: ["node03": "disk: ssd"])
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2), RunHarness.ip(3)])
        return run
      },
      planned: ["labels node03"]),
    Case(
      name: "a promotion and a demotion",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node04"], nodes: 4)
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2), RunHarness.ip(3)], workers: [RunHarness.ip(4)])
        return run
      },
      planned: ["demote node03", "promote node04"]),
    Case(
      name: "a node in another swarm",
      setup: {
        let run = try RunHarness(managers: ["node01"], nodes: 3)
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2)])
        run.swarm.state.withLock {
          $0.engines[RunHarness.ip(3)]?.state = "active"
          $0.engines[RunHarness.ip(3)]?.foreignCluster = "OTHERCLUSTER"
        }
        return run
      },
      planned: ["refuse node03"], after: ["refuse node03"]),
    Case(
      name: "a worker the managers do not list",
      setup: {
        let run = try RunHarness(managers: ["node01"], nodes: 2)
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [])
        run.swarm.state.withLock {
          $0.engines[RunHarness.ip(2)]?.state = "active"
          $0.engines[RunHarness.ip(2)]?.nodeID = "GHOST"
        }
        return run
      },
      planned: ["refuse node02"], after: ["refuse node02"]),
    Case(
      name: "a manager in the swarm whose Docker setup cannot be done",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02"], nodes: 3)
        run.swarm.form(managers: [RunHarness.ip(1)], workers: [])
        run.engines["node01"] = Self.broken(run, "node01")
        return run
      },
      // node01 still shows the swarm: no second one is started.
      planned: ["refuse node01", "join node02 as manager", "join node03 as worker", "rotate join tokens"],
      after: ["refuse node01"]),
    Case(
      name: "no swarm yet and the first manager's Docker setup cannot be done",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02"], nodes: 3)
        run.engines["node01"] = Self.broken(run, "node01")
        return run
      },
      planned: ["refuse node01", "init node02", "join node03 as worker", "rotate join tokens"], after: ["refuse node01"]),
    Case(
      name: "Docker installed and restarted: managers one at a time, the leader last",
      setup: {
        let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 5)
        run.swarm.form(managers: [RunHarness.ip(1), RunHarness.ip(2), RunHarness.ip(3)], workers: [RunHarness.ip(4)])
        run.swarm.state.withLock { $0.leader = RunHarness.ip(1) }
        for node in run.cluster.nodes where node.name != "node05" {
          var state = run.settled(node)
          state.daemonJSON = nil
          run.engines[node.name] = state
        }
        // node05 has no Docker yet: installed, then it joins.
        run.engines["node05"] = EngineSetup.State(
          docker: false, apt: true, daemonJSON: nil, fstab: "", storageMode: nil, storageMounted: false)
        run.swarm.state.withLock { $0.engines[RunHarness.ip(5)]?.down = true }
        return run
      },
      planned: [
        "docker node04", "docker node05", "docker node02", "docker node03", "docker node01", "join node05 as worker",
        "rotate join tokens",
      ]),
  ]

  /// The swarm has autolock on, and the state store keeps its key.
  static func autolock(_ run: RunHarness) {
    run.swarm.state.withLock {
      $0.autolock = true
      $0.unlockKey = "SWMKEY-1-fakeunlockkey-0"
      $0.keys = 1
    }
    run.memory.setUnlockKey("SWMKEY-1-fakeunlockkey-0")
  }

  /// A Docker setup that cannot be planned: a storage marker that names no mode.
  static func broken(_ run: RunHarness, _ name: String) -> EngineSetup.State {
    var state = run.settled(run.cluster.node(named: name) ?? run.cluster.nodes[0])
    state.storageMode = "bogus"
    return state
  }

  /// Each case twice: nodes' swarm states read through the Engine API, and read by Docker's
  /// setup probe (curl on the node, in preflight's round trip): the same plan.
  @Test(arguments: cases, [false, true]) func thePlanIsWhatRuns(_ scenario: Case, probeReadsInfo: Bool) throws {
    let run = try scenario.setup()
    run.probeReadsInfo = probeReadsInfo
    let plan = run.plan()
    #expect(plan.actions.map(\.id) == scenario.planned, "\(plan.actions)")
    #expect(plan.unlocksFirst == scenario.unlocksFirst)
    // Planning changes nothing.
    #expect(!run.swarm.state.withLock { $0.requests }.contains { $0.method != "GET" })
    if probeReadsInfo {
      // Nodes the probe read are not asked again: the Engine API serves the swarm's view, and
      // the nodes whose dockerd gave the probe no answer.
      let (asked, down) = run.swarm.state.withLock { state in
        (
          Set(state.requests.filter { $0.path.hasSuffix("/info") }.map(\.ip)),
          Set(state.engines.values.filter(\.down).map(\.ip))
        )
      }
      #expect(asked.isSubset(of: down), "\(asked)")
    }
    let report = run.execute(plan)
    #expect(report.results.map(\.action) == plan.actions)
    for result in report.results {
      if case .refuse = result.action {
        #expect(result.status == .refused)
      } else {
        #expect(result.status == .done, "\(result.action.id): \(result.error ?? "")")
      }
    }
    #expect(report.notReady.isEmpty, "\(report.notReady)")
    // Docker's setup applied where planned; managers whose dockerd stops one at a time, in the
    // plan's order (the leader last); the others in parallel, in any order.
    let planned = plan.actions.compactMap { if case .docker(let node, _) = $0 { node.name } else { nil } }
    #expect(run.applied.all.sorted() == planned.sorted())
    let oneAtATime = Set(
      plan.actions.compactMap {
        if case .docker(let node, let setup) = $0, node.role == .manager, setup.stopsDocker { node.name } else { nil }
      })
    #expect(run.applied.all.filter(oneAtATime.contains) == planned.filter(oneAtATime.contains))
    if !scenario.unlocksFirst && !scenario.planned.contains(where: { $0.hasPrefix("docker ") }) {
      #expect(run.plan().actions.map(\.id) == scenario.after)
    }
    #expect(!run.printed(report).contains("SWMTKN") && !run.printed(report).contains("SWMKEY"))
  }
}

extension RunPlannerTests {
  @Test func aNodeWhoseDockerdIsDownButWhoseSetupStartsItGetsItsSetupAndNoSwarmChange() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3)
    run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2), RunHarness.ip(3)])
    run.swarm.state.withLock { $0.engines[RunHarness.ip(3)]?.down = true }
    let node = try #require(run.cluster.node(named: "node03"))
    var state = run.settled(node)
    state.daemonJSON = nil
    run.engines["node03"] = state
    #expect(run.plan().actions.map(\.id) == ["docker node03"])
    // Down with nothing that would start it: left alone, with why.
    run.engines["node03"] = nil
    let refused = run.plan().actions
    #expect(refused.map(\.id) == ["refuse node03"])
    #expect(refused.first?.change.contains("did not answer") == true)
  }

  /// A netbooted worker's first run: its dockerd waits for the storage this run makes. `up`
  /// does Docker's setup first (and nothing of the swarm, whose work waits for it), then reads
  /// again and joins it, in the same run: one `up` from power-off to a stack (JourneyTests).
  @Test func aNodeWhoseSetupStartsItsDockerdGetsItFirstAndItsJoinFromTheNextRound() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3)
    run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2)])
    run.swarm.state.withLock { $0.engines[RunHarness.ip(3)]?.down = true }
    let node = try #require(run.cluster.node(named: "node03"))
    var state = run.settled(node)
    state.daemonJSON = nil
    run.engines["node03"] = state
    let plan = run.plan()
    #expect(plan.actions.map(\.id) == ["docker node03"] && plan.startsEnginesFirst)
    // A narrower run goes on to another round only for a later step.
    #expect(!plan.only(["docker"]).startsEnginesFirst && plan.only(["docker", "swarm"]).startsEnginesFirst)
    // Its dockerd answers now, outside the swarm: the join.
    run.swarm.state.withLock { $0.engines[RunHarness.ip(3)]?.down = false }
    run.engines["node03"] = run.settled(node)
    let next = run.plan()
    #expect(!next.startsEnginesFirst)
    #expect(next.actions.map(\.id).contains("join node03 as worker"), "\(next.actions.map(\.id))")
  }

  /// A netbooted manager's first run: its dockerd waits for the storage this run makes, so no
  /// manager answers yet. It gets its Docker setup (which starts dockerd), not a refusal; the
  /// swarm is formed on the next run. Found booting Debian diskless (RealOSBootTests).
  @Test func aLoneManagerWhoseSetupStartsItsDockerdGetsItsSetupNotARefusal() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 1)
    run.swarm.state.withLock { $0.engines[RunHarness.ip(1)]?.down = true }
    let node = try #require(run.cluster.node(named: "node01"))
    var state = run.settled(node)
    state.daemonJSON = nil
    run.engines["node01"] = state
    #expect(run.plan().actions.map(\.id) == ["docker node01"])
  }
}
