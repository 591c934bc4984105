import Foundation
import PiSwarmCore
import PiSwarmDocker
import Synchronization
import Testing

/// `SwarmConvergence` against a fake swarm: tokens, node identity, autolock.
@Suite struct SwarmConvergenceTests {
  static func cluster(managers: [String], nodes: Int, labels: [String: String] = [:], extra: String = "") throws -> Cluster {
    var text = """
      name: t
      head: {interface: eth0, address: 10.0.0.1/24}
      defaults: {boot: preinstalled, docker_storage: root}
      swarm:
        managers: [\(managers.joined(separator: ", "))]
      \(extra)
      nodes:

      """
    for index in 1...nodes {
      let name = "node0\(index)"
      let own = labels[name].map { ", labels: {\($0)}" } ?? ""
      text += "  - {name: \(name), ip: 10.0.0.1\(index)\(own)}\n"
    }
    let decoded = ClusterFile.decode(text: text)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  static func ip(_ index: Int) -> String { "10.0.0.1\(index)" }

  /// Progress lines a run printed.
  final class Lines: Sendable {
    let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
  }

  /// A run against `swarm`, its progress lines kept.
  static func convergence(_ cluster: Cluster, _ swarm: FakeSwarm, lines: Lines) -> SwarmConvergence {
    var run = SwarmConvergence(cluster: cluster, parallel: 4, client: { swarm.client($0) }, progress: { lines.add($0) })
    run.readyTimeout = 1
    return run
  }

  @Test func aFailedJoinStillRotatesTheTokens() throws {
    let cluster = try Self.cluster(managers: ["node01"], nodes: 2)
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2)])
    swarm.form(managers: [Self.ip(1)], workers: [])
    swarm.state.withLock { _ = $0.failJoins.insert(Self.ip(2)) }
    let lines = Lines()
    let outcomes = Self.convergence(cluster, swarm, lines: lines).run()
    #expect(outcomes.first { $0.node == "node02" }?.failed == true)
    // The worker token went out: it must not stay valid.
    #expect(swarm.state.withLock { $0.rotations } == 1)
  }

  @Test func aNodeThatClaimsAnotherNodesIDCannotGetThatNodePromotedOrRelabelled() throws {
    // node02 should be a manager with disk=ssd; it lies that it is node03 (a worker).
    let cluster = try Self.cluster(managers: ["node01", "node02"], nodes: 3, labels: ["node02": "disk: ssd"])
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2), Self.ip(3)])
    swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2), Self.ip(3)])
    let victim = try #require(swarm.engine(Self.ip(3))?.nodeID)
    swarm.state.withLock { $0.engines[Self.ip(2)]?.claimedID = victim }
    let lines = Lines()
    let outcomes = Self.convergence(cluster, swarm, lines: lines).run()
    let entry = try #require(swarm.entry(victim))
    #expect(entry.role == "worker")
    #expect(entry.labels["disk"] == nil)
    let liar = try #require(outcomes.first(where: { $0.node == "node02" }))
    #expect(liar.failed)
    #expect(liar.error?.contains("10.0.0.12") == true, "\(liar.error ?? "")")
    #expect(outcomes.first { $0.node == "node03" }?.failed == false)
  }

  /// Every line a run could show or journal: its progress and its outcomes.
  static func printed(_ lines: Lines, _ outcomes: [SwarmConvergence.Outcome]) -> String {
    lines.all.joined(separator: "\n") + "\n" + outcomes.map { "\($0)" }.joined(separator: "\n")
  }

  @Test func theRotationIsRecordedAsOwedBeforeAnyTokenIsSentAndClearedAfter() throws {
    let cluster = try Self.cluster(managers: ["node01"], nodes: 3)
    let memory = InMemorySwarmMemory()
    let owedAtJoin = Mutex<[Bool]>([])
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2), Self.ip(3)]) { _ in
      owedAtJoin.withLock { $0.append(memory.rotationOwed()) }
    }
    let lines = Lines()
    var run = Self.convergence(cluster, swarm, lines: lines)
    run.memory = memory
    let outcomes = run.run()
    #expect(outcomes.allSatisfy { !$0.failed }, "\(outcomes)")
    #expect(owedAtJoin.withLock { $0 } == [true, true])
    #expect(swarm.state.withLock { $0.rotations } == 1)
    #expect(memory.rotationOwed() == false)
    #expect(outcomes.first { $0.node == "node01" }?.actions.contains("rotated join tokens") == true)
    let text = Self.printed(lines, outcomes)
    for secret in swarm.secrets { #expect(!text.contains(secret), "a token was printed") }
    #expect(!text.contains("SWMTKN"))
  }

  @Test func aRotationOwedByAnInterruptedRunIsDoneByTheNextEvenWithNothingToJoin() throws {
    let cluster = try Self.cluster(managers: ["node01"], nodes: 2)
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2)])
    swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2)])
    let memory = InMemorySwarmMemory(rotationOwed: true)
    var run = Self.convergence(cluster, swarm, lines: Lines())
    run.memory = memory
    let planned = run.plan()
    #expect(planned.first { $0.node == "node01" }?.actions == ["rotate join tokens"], "\(planned)")
    #expect(planned.first { $0.node == "node02" }?.actions == ["unchanged"])
    #expect(swarm.state.withLock { $0.rotations } == 0)
    let outcomes = run.run()
    #expect(outcomes.allSatisfy { !$0.failed }, "\(outcomes)")
    #expect(swarm.state.withLock { $0.rotations } == 1)
    #expect(memory.rotationOwed() == false)
    // Nothing owed any more: nothing to do.
    #expect(run.plan().allSatisfy { $0.actions == ["unchanged"] })
    _ = run.run()
    #expect(swarm.state.withLock { $0.rotations } == 1)
  }

  @Test func whenTheRotationCannotBeRecordedNoTokenIsSent() throws {
    struct Broken: SwarmMemory {
      func rotationOwed() throws(PiSwarmError) -> Bool { false }
      func setRotationOwed(_ owed: Bool) throws(PiSwarmError) { throw PiSwarmError(.system, "disk full") }
      func unlockKey() throws(PiSwarmError) -> String? { nil }
      func setUnlockKey(_ key: String?) throws(PiSwarmError) {}
    }
    let cluster = try Self.cluster(managers: ["node01"], nodes: 2)
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2)])
    swarm.form(managers: [Self.ip(1)], workers: [])
    var run = Self.convergence(cluster, swarm, lines: Lines())
    run.memory = Broken()
    let outcomes = run.run()
    #expect(outcomes.first { $0.node == "node02" }?.error?.contains("disk full") == true, "\(outcomes)")
    #expect(!swarm.requests(to: Self.ip(2)).contains { $0.hasPrefix("POST /v1.41/swarm/join") })
  }

  @Test func autolockIsEnabledAndItsKeyKeptButNeverShown() throws {
    let cluster = try Self.cluster(managers: ["node01"], nodes: 2, extra: "  autolock: true")
    #expect(cluster.swarm.autolock)
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2)])
    swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2)])
    let memory = InMemorySwarmMemory()
    let lines = Lines()
    var run = Self.convergence(cluster, swarm, lines: lines)
    run.memory = memory
    #expect(run.plan().first { $0.node == "node01" }?.actions == ["enable autolock"])
    let outcomes = run.run()
    #expect(outcomes.allSatisfy { !$0.failed }, "\(outcomes)")
    #expect(outcomes.first { $0.node == "node01" }?.actions == ["enabled autolock"])
    #expect(swarm.state.withLock { $0.autolock })
    let key = try #require(swarm.state.withLock { $0.unlockKey })
    #expect(memory.unlockKey() == key)
    #expect(!Self.printed(lines, outcomes).contains(key))
    #expect(run.plan().allSatisfy { $0.actions == ["unchanged"] })
  }

  @Test func aLockedManagerIsUnlockedBeforeAnythingElseIsDoneWithIt() throws {
    let cluster = try Self.cluster(managers: ["node01", "node02", "node03"], nodes: 3, extra: "  autolock: true")
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2), Self.ip(3)])
    swarm.form(managers: [Self.ip(1), Self.ip(2), Self.ip(3)], workers: [])
    let memory = InMemorySwarmMemory()
    let lines = Lines()
    var run = Self.convergence(cluster, swarm, lines: lines)
    run.memory = memory
    _ = run.run()
    let key = try #require(memory.unlockKey())
    // node02's dockerd restarts: it comes back locked.
    swarm.lock(Self.ip(2))
    let before = swarm.requests(to: Self.ip(2)).count
    let planned = run.plan()
    #expect(planned.first { $0.node == "node02" }?.actions == ["unlock"], "\(planned)")
    #expect(planned.filter { $0.node != "node02" }.allSatisfy { $0.actions == ["unchanged"] }, "\(planned)")
    #expect(swarm.engine(Self.ip(2))?.state == "locked")
    let outcomes = run.run()
    #expect(outcomes.allSatisfy { !$0.failed }, "\(outcomes)")
    #expect(outcomes.first { $0.node == "node02" }?.actions == ["unlocked"])
    #expect(swarm.engine(Self.ip(2))?.state == "active")
    let sent = Array(swarm.requests(to: Self.ip(2)).dropFirst(before))
    // Plan: ping and info; run: ping, info, then the unlock first.
    #expect(
      Array(sent.prefix(5)) == ["GET /_ping", "GET /v1.41/info", "GET /_ping", "GET /v1.41/info", "POST /v1.41/swarm/unlock"],
      "\(sent)")
    #expect(!Self.printed(lines, outcomes).contains(key))
  }

  @Test func aLockedManagerWithoutAKeyIsAClearErrorAndNoNewSwarmIsStarted() throws {
    let cluster = try Self.cluster(managers: ["node01"], nodes: 2, extra: "  autolock: true")
    let swarm = FakeSwarm([Self.ip(1), Self.ip(2)])
    swarm.form(managers: [Self.ip(1)], workers: [Self.ip(2)])
    swarm.state.withLock {
      $0.autolock = true
      $0.unlockKey = "SWMKEY-1-fakeunlockkey-0"
      $0.keys = 1
    }
    swarm.lock(Self.ip(1))
    let outcomes = Self.convergence(cluster, swarm, lines: Lines()).run()
    let error = try #require(outcomes.first { $0.node == "node01" }?.error)
    #expect(error.contains("locked") && error.contains("docker swarm unlock"), "\(error)")
    #expect(!swarm.requests(to: Self.ip(1)).contains { $0.hasPrefix("POST /v1.41/swarm/init") })
    #expect(!swarm.requests(to: Self.ip(2)).contains { $0.hasPrefix("POST") })
  }

  @Test func autolockOffTurnsItOffAndForgetsTheKey() throws {
    let cluster = try Self.cluster(managers: ["node01"], nodes: 1)
    let swarm = FakeSwarm([Self.ip(1)])
    swarm.form(managers: [Self.ip(1)], workers: [])
    swarm.state.withLock {
      $0.autolock = true
      $0.unlockKey = "SWMKEY-1-fakeunlockkey-0"
      $0.keys = 1
    }
    let memory = InMemorySwarmMemory(unlockKey: "SWMKEY-1-fakeunlockkey-0")
    var run = Self.convergence(cluster, swarm, lines: Lines())
    run.memory = memory
    #expect(run.plan().first?.actions == ["disable autolock"])
    let outcomes = run.run()
    #expect(outcomes.first?.actions == ["disabled autolock"], "\(outcomes)")
    #expect(swarm.state.withLock { $0.autolock } == false)
    #expect(memory.unlockKey() == nil)
  }

  @Test func identityIsTheManagersView() throws {
    let node = try #require(try Self.cluster(managers: ["node01"], nodes: 2).node(named: "node02"))
    func entry(_ id: String, _ addr: String, _ state: String = "ready") throws -> SwarmNode {
      let json = """
        {"ID":"\(id)","Version":{"Index":1},"Spec":{"Role":"worker","Availability":"active"},"Status":{"State":"\(state)","Addr":"\(addr)"}}
        """
      return try JSONDecoder().decode(SwarmNode.self, from: Data(json.utf8))
    }
    let list = [
      try entry("A", "10.0.0.11"), try entry("OLD", "10.0.0.12", "down"), try entry("B", "10.0.0.12"), try entry("C", "0.0.0.0"),
    ]
    #expect(SwarmConvergence.identity(of: node, claimed: "B", in: list) == .known(list[2]))
    #expect(SwarmConvergence.identity(of: node, claimed: nil, in: list) == .known(list[2]))
    #expect(SwarmConvergence.identity(of: node, claimed: "OLD", in: list) == .known(list[1]))
    #expect(SwarmConvergence.identity(of: node, claimed: "A", in: list) == .disputed(claimed: list[0], atAddress: ["OLD", "B"]))
    // Just joined: listed without its address yet, or not listed yet.
    #expect(SwarmConvergence.identity(of: node, claimed: "C", in: list) == .missing)
    #expect(SwarmConvergence.identity(of: node, claimed: "D", in: list) == .missing)
  }
}
