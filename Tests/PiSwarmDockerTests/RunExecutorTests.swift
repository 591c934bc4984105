import Foundation
import PiSwarmCore
import PiSwarmDocker
import Synchronization
import Testing

/// `RunExecutor` against the fake swarm: tokens, node identity, autolock, and what is skipped
/// after a failure.
@Suite struct RunExecutorTests {
  static let ip = RunHarness.ip

  /// The node at `address` left the swarm and its entry was removed.
  static func leave(_ run: RunHarness, _ address: String) {
    run.swarm.state.withLock { state in
      state.engines[address]?.state = "inactive"
      state.engines[address]?.nodeID = nil
      state.entries.removeAll { $0.addr == address }
    }
  }

  @Test func aFailedJoinStillRotatesTheTokens() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 2)
    run.swarm.form(managers: [Self.ip(1)], workers: [])
    run.swarm.state.withLock { _ = $0.failJoins.insert(Self.ip(2)) }
    let report = run.execute(run.plan())
    #expect(report.results.first { $0.action.id == "join node02 as worker" }?.status == .failed)
    #expect(report.results.first { $0.action.id == "rotate join tokens" }?.status == .done)
    // The worker token went out: it must not stay valid.
    #expect(run.swarm.state.withLock { $0.rotations } == 1)
  }

  @Test func aJoinDockerdStoppedWaitingForIsConfirmedByAskingTheNode() throws {
    // At 100 nodes, joins outlast dockerd's own 20 s wait and go on in the background.
    let run = try RunHarness(managers: ["node01", "node02"], nodes: 4)
    run.swarm.state.withLock { $0.backgroundJoins = [Self.ip(2), Self.ip(3)] }
    let report = run.execute(run.plan())
    for id in ["join node02 as manager", "join node03 as worker"] {
      let result = try #require(report.results.first { $0.action.id == id })
      #expect(result.status == .done, "\(id): \(result.error ?? "")")
      #expect(result.notes.contains { $0.contains("dockerd stopped waiting") }, "\(result.notes)")
    }
    #expect(report.results.allSatisfy { $0.status == .done })
    #expect(run.swarm.state.withLock { $0.entries.count } == 4)
  }

  @Test func aJoinThatEndedInSwarmStateErrorLeavesAndJoinsAgain() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3)
    run.swarm.state.withLock { $0.brokenJoins = [Self.ip(3)] }
    let report = run.execute(run.plan())
    let result = try #require(report.results.first { $0.action.id == "join node03 as worker" })
    #expect(result.status == .done, "\(result.error ?? "")")
    #expect(result.notes.contains { $0.contains("context deadline exceeded") && $0.contains("joined again") }, "\(result.notes)")
    #expect(run.swarm.engine(Self.ip(3))?.state == "active")
  }

  @Test func aNodeThatClaimsAnotherNodesIDCannotGetThatNodePromotedOrRelabelled() throws {
    // node02 should be a manager with disk=ssd; it lies that it is node03 (a worker).
    let run = try RunHarness(managers: ["node01", "node02"], nodes: 3, labels: ["node02": "disk: ssd"])
    run.swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2), Self.ip(3)])
    let victim = try #require(run.swarm.engine(Self.ip(3))?.nodeID)
    run.swarm.state.withLock { $0.engines[Self.ip(2)]?.claimedID = victim }
    let plan = run.plan()
    let report = run.execute(plan)
    let entry = try #require(run.swarm.entry(victim))
    #expect(entry.role == "worker")
    #expect(entry.labels["disk"] == nil)
    let liar = try #require(report.results.first { $0.action.node == "node02" })
    #expect(liar.status == .refused)
    #expect(liar.error?.contains("10.0.0.12") == true, "\(liar.error ?? "")")
    #expect(plan.actions.map(\.id) == ["refuse node02"])
  }

  @Test func theRotationIsRecordedAsOwedBeforeAnyTokenIsSentAndClearedAfter() throws {
    let owedAtJoin = Mutex<[Bool]>([])
    let memory = InMemorySwarmMemory()
    let run = try RunHarness(managers: ["node01"], nodes: 3) { _ in
      owedAtJoin.withLock { $0.append(memory.rotationOwed()) }
    }
    run.memory = memory
    let report = run.execute(run.plan())
    #expect(report.results.allSatisfy { $0.status == .done }, "\(report.results)")
    #expect(owedAtJoin.withLock { $0 } == [true, true])
    #expect(run.swarm.state.withLock { $0.rotations } == 1)
    #expect(memory.rotationOwed() == false)
    let text = run.printed(report)
    for secret in run.swarm.secrets { #expect(!text.contains(secret), "a token was printed") }
    #expect(!text.contains("SWMTKN"))
  }

  @Test func whenTheRotationCannotBeRecordedNoTokenIsSent() throws {
    struct Broken: SwarmMemory {
      func rotationOwed() throws(PiSwarmError) -> Bool { false }
      func setRotationOwed(_ owed: Bool) throws(PiSwarmError) { throw PiSwarmError(.system, "disk full") }
      func unlockKey() throws(PiSwarmError) -> String? { nil }
      func setUnlockKey(_ key: String?) throws(PiSwarmError) {}
    }
    let run = try RunHarness(managers: ["node01"], nodes: 2)
    run.swarm.form(managers: [Self.ip(1)], workers: [])
    run.otherMemory = Broken()
    let report = run.execute(run.plan())
    let join = try #require(report.results.first { $0.action.id == "join node02 as worker" })
    #expect(join.status == .failed && join.error?.contains("disk full") == true, "\(join)")
    #expect(!run.swarm.requests(to: Self.ip(2)).contains { $0.hasPrefix("POST /v1.41/swarm/join") })
  }

  @Test func autolockIsEnabledAndItsKeyKeptButNeverShown() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 2, extra: "  autolock: true")
    run.swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2)])
    let plan = run.plan()
    #expect(plan.actions.map(\.id) == ["enable autolock"])
    let report = run.execute(plan)
    #expect(report.results.allSatisfy { $0.status == .done }, "\(report.results)")
    #expect(run.swarm.state.withLock { $0.autolock })
    let key = try #require(run.swarm.state.withLock { $0.unlockKey })
    #expect(run.memory.unlockKey() == key)
    #expect(!run.printed(report).contains(key))
    #expect(run.plan().actions.isEmpty)
  }

  @Test func aLockedManagerIsUnlockedBeforeAnythingElseIsDoneWithIt() throws {
    let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 4, extra: "  autolock: true")
    run.swarm.form(managers: [Self.ip(1), Self.ip(2), Self.ip(3)], workers: [])
    _ = run.execute(run.plan())
    let key = try #require(run.memory.unlockKey())
    // node02's dockerd restarts: it comes back locked; node04 is new.
    run.swarm.lock(Self.ip(2))
    Self.leave(run, Self.ip(4))
    let before = run.swarm.requests(to: Self.ip(2)).count
    let plan = run.plan()
    #expect(plan.actions.map(\.id) == ["unlock node02", "join node04 as worker", "rotate join tokens"])
    #expect(run.swarm.engine(Self.ip(2))?.state == "locked")
    let report = run.execute(plan)
    #expect(report.results.allSatisfy { $0.status == .done }, "\(report.results)")
    #expect(run.swarm.engine(Self.ip(2))?.state == "active")
    let sent = Array(run.swarm.requests(to: Self.ip(2)).dropFirst(before))
    // Plan: ping and info; run: ping, then the unlock first.
    #expect(Array(sent.prefix(4)) == ["GET /_ping", "GET /v1.41/info", "GET /_ping", "POST /v1.41/swarm/unlock"], "\(sent)")
    #expect(!run.printed(report).contains(key))
  }

  @Test func whenEveryManagerIsLockedTheRestIsPlannedOnceTheyAreUnlocked() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3, extra: "  autolock: true")
    run.swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2)])
    _ = run.execute(run.plan())
    run.swarm.lock(Self.ip(1))
    Self.leave(run, Self.ip(3))
    let first = run.plan()
    #expect(first.unlocksFirst && first.actions.map(\.id) == ["unlock node01"])
    #expect(run.execute(first).results.allSatisfy { $0.status == .done })
    let second = run.plan()
    #expect(!second.unlocksFirst && second.actions.map(\.id) == ["join node03 as worker", "rotate join tokens"])
  }

  @Test func aLockedManagerWithoutAKeyIsAClearErrorAndNoNewSwarmIsStarted() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 2, extra: "  autolock: true")
    run.swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2)])
    run.swarm.state.withLock {
      $0.autolock = true
      $0.unlockKey = "SWMKEY-1-fakeunlockkey-0"
      $0.keys = 1
    }
    run.swarm.lock(Self.ip(1))
    let report = run.execute(run.plan())
    let error = try #require(report.results.first { $0.action.node == "node01" }?.error)
    #expect(error.contains("locked") && error.contains("docker swarm unlock"), "\(error)")
    #expect(!run.swarm.requests(to: Self.ip(1)).contains { $0.hasPrefix("POST /v1.41/swarm/init") })
    #expect(!run.swarm.requests(to: Self.ip(2)).contains { $0.hasPrefix("POST") })
  }

  @Test func autolockOffTurnsItOffAndForgetsTheKey() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 1)
    run.swarm.form(managers: [Self.ip(1)], workers: [])
    run.swarm.state.withLock {
      $0.autolock = true
      $0.unlockKey = "SWMKEY-1-fakeunlockkey-0"
      $0.keys = 1
    }
    run.memory.setUnlockKey("SWMKEY-1-fakeunlockkey-0")
    let plan = run.plan()
    #expect(plan.actions.map(\.id) == ["disable autolock", "forget unlock key"])
    let report = run.execute(plan)
    #expect(report.results.allSatisfy { $0.status == .done }, "\(report.results)")
    #expect(run.swarm.state.withLock { $0.autolock } == false)
    #expect(run.memory.unlockKey() == nil)
  }

  @Test func anActionOfANodeWhoseDockerSetupFailedIsSkippedAndTheOthersGoOn() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3, labels: ["node02": "disk: ssd"])
    for node in run.cluster.nodes {
      var state = run.settled(node)
      state.daemonJSON = nil
      run.engines[node.name] = state
    }
    run.failingDocker = ["node02"]
    let plan = run.plan()
    #expect(
      plan.actions.map(\.id) == [
        "docker node02", "docker node03", "docker node01", "init node01", "join node02 as worker", "join node03 as worker",
        "labels node02", "rotate join tokens",
      ])
    let report = run.execute(plan)
    let status = Dictionary(uniqueKeysWithValues: report.results.map { ($0.action.id, $0.status) })
    #expect(status["docker node02"] == .failed)
    #expect(status["join node02 as worker"] == .skipped)
    #expect(status["labels node02"] == .skipped)
    #expect(status["join node03 as worker"] == .done)
    #expect(status["rotate join tokens"] == .done)
    #expect(report.results.first { $0.action.id == "labels node02" }?.error?.contains("docker node02") == true)
    #expect(!run.swarm.requests(to: Self.ip(2)).contains { $0.hasPrefix("POST") })
  }

  @Test func afterAManagerRestartFailsNoOtherManagerRestarts() throws {
    let run = try RunHarness(managers: ["node01", "node02", "node03"], nodes: 3)
    run.swarm.form(managers: [Self.ip(1), Self.ip(2), Self.ip(3)], workers: [])
    for node in run.cluster.nodes {
      var state = run.settled(node)
      state.daemonJSON = nil
      run.engines[node.name] = state
    }
    run.failingDocker = ["node01"]
    let report = run.execute(run.plan())
    #expect(report.results.map(\.status) == [.failed, .skipped, .skipped])
    #expect(report.results.last?.error?.contains("one at a time") == true)
    #expect(run.applied.all == ["node01"])
  }

  @Test func identityIsTheManagersView() throws {
    let node = try #require(try RunHarness(managers: ["node01"], nodes: 2).cluster.node(named: "node02"))
    func entry(_ id: String, _ addr: String, _ state: SwarmNodeState = .ready) -> SwarmMember {
      SwarmMember(id: id, address: addr, role: .worker, state: state)
    }
    let list = [entry("A", "10.0.0.11"), entry("OLD", "10.0.0.12", .down), entry("B", "10.0.0.12"), entry("C", "0.0.0.0")]
    #expect(SwarmMember.identity(of: node, claimed: "B", in: list) == .known(list[2]))
    #expect(SwarmMember.identity(of: node, claimed: nil, in: list) == .known(list[2]))
    #expect(SwarmMember.identity(of: node, claimed: "OLD", in: list) == .known(list[1]))
    #expect(SwarmMember.identity(of: node, claimed: "A", in: list) == .disputed(claimed: list[0], atAddress: ["OLD", "B"]))
    // Just joined: listed without its address yet, or not listed yet.
    #expect(SwarmMember.identity(of: node, claimed: "C", in: list) == .missing)
    #expect(SwarmMember.identity(of: node, claimed: "D", in: list) == .missing)
  }
}
