import PiSwarmCore
import PiSwarmTestSupport
import Testing

/// The order of an upgrade (canary first, workers, managers last, the leader last of all), what
/// quorum allows, the steps of each kind, and stopping at the first failure.
@Suite struct UpgradePlanTests {
  static let lab = PowerConfig(driver: "lab", settings: ["lab": "t"])

  static func node(_ n: Int, manager: Bool = false, boot: BootMode = .netboot, power: PowerConfig = lab) -> Node {
    Node(
      name: String(format: "node%02d", n), ip: IPv4Address("10.0.0.\(n)") ?? IPv4Address(0), boot: boot, power: power,
      role: manager ? .manager : .worker)
  }

  static func candidate(
    _ n: Int, manager: Bool = false, leader: Bool = false, swarm: UpgradeCandidate.Swarm = .ready, boot: BootMode = .netboot,
    power: PowerConfig = lab, image: String? = "old", previous: Int? = nil
  ) -> UpgradeCandidate {
    var candidate = UpgradeCandidate(
      node: node(n, manager: manager, boot: boot, power: power), swarm: swarm, leader: leader,
      nextGeneration: boot == .netboot ? 2 : nil, previousGeneration: previous.map { ($0, "old") })
    candidate.currentImage = boot == .netboot ? image : nil
    return candidate
  }

  /// Three managers (node01 the leader) and three workers.
  static let cluster = [
    candidate(1, manager: true, leader: true), candidate(2, manager: true), candidate(3, manager: true),
    candidate(4), candidate(5), candidate(6),
  ]

  @Test func workersFirstThenManagersWithTheLeaderLast() {
    let plan = UpgradePlanner.plan(.image("new"), candidates: Self.cluster.shuffled(), managers: 3, unreachableManagers: [])
    #expect(plan.order == ["node04", "node05", "node06", "node02", "node03", "node01"])
    #expect(plan.refused.isEmpty && plan.warnings.isEmpty)
  }

  @Test(arguments: ["node05", "node02", "node01"]) func theCanaryGoesFirstWhateverItIs(canary: String) {
    let plan = UpgradePlanner.plan(.packages, candidates: Self.cluster, canary: canary, managers: 3, unreachableManagers: [])
    #expect(plan.order.first == canary)
    #expect(plan.order.count == 6 && Set(plan.order).count == 6)
    // Apart from the canary, managers still come last.
    let rest = plan.order.dropFirst()
    let firstManager = rest.firstIndex { ["node01", "node02", "node03"].contains($0) } ?? rest.endIndex
    #expect(rest[firstManager...].allSatisfy { ["node01", "node02", "node03"].contains($0) })
  }

  @Test func noManagerIsTakenDownWhileAnotherIsUnreachable() {
    let plan = UpgradePlanner.plan(
      .image("new"), candidates: Self.cluster, managers: 3, unreachableManagers: ["node03"])
    // node03 itself is unreachable: it is refused as not Ready only if the swarm says so; here
    // it is the others that would lose quorum.
    #expect(plan.order == ["node04", "node05", "node06", "node03"])
    #expect(Set(plan.refused.map(\.node)) == ["node01", "node02"])
    #expect(plan.refused.allSatisfy { $0.reason.contains("node03") && $0.reason.contains("quorum") })
  }

  @Test func fewerThanThreeManagersIsAWarningNotARefusal() {
    let plan = UpgradePlanner.plan(
      .image("new"), candidates: [Self.candidate(1, manager: true, leader: true), Self.candidate(2)], managers: 1,
      unreachableManagers: [])
    #expect(plan.order == ["node02", "node01"])
    #expect(plan.warnings.count == 1 && plan.warnings[0].contains("1 manager:"))
  }

  @Test func imageUpgradesRefuseWhatTheyCannotDo() {
    let candidates = [
      Self.candidate(1, boot: .sd),
      Self.candidate(2, power: .none),
      Self.candidate(3, swarm: .down),
      Self.candidate(4, image: "new"),
      Self.candidate(5),
    ]
    let plan = UpgradePlanner.plan(.image("new"), candidates: candidates, managers: 3, unreachableManagers: [])
    #expect(plan.order == ["node05"])
    let reasons = Dictionary(uniqueKeysWithValues: plan.refused.map { ($0.node, $0.reason) })
    #expect(reasons["node01"]?.contains("sd node") == true)
    #expect(reasons["node02"]?.contains("power: none") == true)
    #expect(reasons["node03"]?.contains("not Ready") == true)
    #expect(reasons["node04"]?.contains("from new already") == true)
    #expect(plan.refused.allSatisfy { !$0.advice.isEmpty })
  }

  @Test func aRefusedCanaryStopsEverything() {
    let plan = UpgradePlanner.plan(
      .image("new"), candidates: [Self.candidate(1, power: .none), Self.candidate(2)], canary: "node01", managers: 3,
      unreachableManagers: [])
    #expect(plan.order.isEmpty && plan.steps.isEmpty)
    #expect(plan.warnings.contains { $0.contains("canary node01") })
  }

  @Test func rollbackTakesDownNodesAndNeedsAPreviousRoot() {
    let plan = UpgradePlanner.plan(
      .rollback, candidates: [Self.candidate(1, swarm: .down, previous: 1), Self.candidate(2)], managers: 1,
      unreachableManagers: [])
    #expect(plan.order == ["node01"])
    #expect(plan.refused.map(\.node) == ["node02"])
    // A node that is down is not drained.
    #expect(plan.steps(of: "node01").map(\.action) == [.powerOff, .switchRoot, .powerOn, .check, .activate, .settle])
  }

  @Test func theStepsOfEachKind() {
    let image = UpgradePlanner.plan(.image("new"), candidates: [Self.candidate(4)], managers: 3, unreachableManagers: [])
    #expect(
      image.steps.map(\.action) == [.root, .spread, .drain, .powerOff, .switchRoot, .powerOn, .check, .activate, .settle])
    let packages = UpgradePlanner.plan(
      .packages, candidates: [Self.candidate(4), Self.candidate(5, boot: .sd, power: .none)], managers: 3,
      unreachableManagers: [])
    #expect(
      packages.steps(of: "node04").map(\.action) == [.snapshot, .spread, .drain, .upgrade, .reboot, .check, .activate, .settle])
    #expect(packages.steps(of: "node05").map(\.action) == [.spread, .drain, .upgrade, .reboot, .check, .activate, .settle])
    #expect(packages.steps(of: "node05").first { $0.action == .reboot }?.detail.contains("over SSH") == true)
    // Not in a swarm: no drain, no activation.
    let alone = UpgradePlanner.plan(
      .packages, candidates: [Self.candidate(6, swarm: .absent)], managers: 0, unreachableManagers: [])
    #expect(alone.steps.map(\.action) == [.snapshot, .upgrade, .reboot, .check])
  }

  @Test func theDryRunTable() {
    let plan = UpgradePlanner.plan(
      .image("bookworm-2"), candidates: [Self.candidate(1, manager: true, leader: true), Self.candidate(2)], canary: "node02",
      managers: 1, unreachableManagers: [])
    if let problem = Golden.check(plan.table, named: "upgrade-plan.txt") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func theRunStopsAtTheFirstFailure() {
    let plan = UpgradePlanner.plan(
      .image("new"), candidates: Self.cluster, canary: "node05", managers: 3, unreachableManagers: [])
    var performed: [String] = []
    var reported = 0
    let outcomes = UpgradeSequence.run(plan, report: { _ in reported += 1 }) { step in
      performed.append("\(step.node) \(step.action.rawValue)")
      if step.node == "node05" && step.action == .check { return .failed("dockerd does not answer") }
      return .done(nil)
    }
    // The canary's steps up to its check ran; nothing after it, on it or on any other node.
    #expect(
      performed == [
        "node05 root", "node05 spread", "node05 drain", "node05 power off", "node05 switch root", "node05 power on",
        "node05 check",
      ])
    #expect(reported == performed.count)
    #expect(outcomes.count == plan.steps.count)
    #expect(outcomes.filter { $0.status == .failed }.map(\.node) == ["node05"])
    #expect(outcomes.dropFirst(performed.count).allSatisfy { $0.status == .notStarted })
  }

  @Test func skippedStepsDoNotStopTheRun() {
    let plan = UpgradePlanner.plan(
      .packages, candidates: [Self.candidate(4), Self.candidate(5)], managers: 3, unreachableManagers: [])
    let outcomes = UpgradeSequence.run(plan) { step in step.action == .reboot ? .skipped("no restart asked for") : .done(nil) }
    #expect(outcomes.allSatisfy { $0.status != .failed && $0.status != .notStarted })
    #expect(outcomes.filter { $0.status == .skipped }.count == 2)
  }
}

/// Root generations: which one boots, which one is the way back, what prune removes.
@Suite struct RootGenerationTests {
  let layout = RootLayout(nfsRoot: "/srv/nfs")

  func generation(_ number: Int, _ role: RootGeneration.Role, image: String = "img") -> RootGeneration {
    RootGeneration(
      node: "node01", number: number, image: image, method: .overlay, path: layout.generation("node01", number), role: role,
      purpose: "test")
  }

  @Test func pathsNeverCollideWithNodesAndParseBack() {
    #expect(layout.generation("node01", 1) == "/srv/nfs/node01")
    #expect(layout.generation("node01", 3) == "/srv/nfs/.roots/node01/3")
    #expect(layout.upper("node01", generation: 1) == "/srv/nfs/.upper/node01/upper")
    #expect(layout.upper("node01", generation: 3) == "/srv/nfs/.upper/node01/3/upper")
    #expect(layout.work("node01", generation: 3) == "/srv/nfs/.upper/node01/3/work")
    for number in [1, 2, 17] {
      #expect(layout.generationNumber(of: layout.generation("node01", number), node: "node01") == number)
    }
    #expect(layout.generationNumber(of: "/srv/nfs/.roots/node01/x", node: "node01") == nil)
    #expect(layout.generationNumber(of: "/srv/nfs/.roots/node02/2", node: "node01") == nil)
    #expect(layout.generationNumber(of: "/srv/nfs/.roots/node01/1", node: "node01") == nil)
  }

  @Test func aRootWithoutRecordsIsGenerationOne() {
    let known = RootGenerations.known(recorded: [], node: "node01", image: "img", method: .snapshot, path: "/srv/nfs/node01")
    #expect(known.map(\.number) == [1] && known[0].role == .current)
    #expect(RootGenerations.next(known) == 2)
    #expect(RootGenerations.prune(known).remove.isEmpty)
  }

  @Test func activateRollbackAndPrune() throws {
    var all = [generation(1, .current), generation(2, .made, image: "new")]
    all = try RootGenerations.activate(all, 2)
    #expect(all.map(\.role) == [.previous, .current])
    // Back, and forward again: two generations swap places.
    all = try RootGenerations.rollback(all)
    #expect(all.map(\.role) == [.current, .previous])
    all = try RootGenerations.rollback(all)
    #expect(all.map(\.role) == [.previous, .current])
    // A third: the first is kept until prune, which keeps current and previous only.
    all.append(generation(3, .made, image: "newer"))
    all.append(generation(4, .made, image: "abandoned"))
    all = try RootGenerations.activate(all, 3)
    #expect(all.map(\.role) == [.kept, .previous, .current, .made])
    let (keep, remove) = RootGenerations.prune(all)
    #expect(keep.map(\.number) == [2, 3])
    #expect(remove.map(\.number) == [1, 4])
    #expect(RootGenerations.next(all) == 5)
  }

  @Test func aBackupBecomesThePreviousGeneration() throws {
    var all = [generation(1, .previous), generation(2, .current)]
    all.append(generation(3, .made))
    all = try RootGenerations.backup(all, 3)
    #expect(all.map(\.role) == [.kept, .current, .previous])
    all = try RootGenerations.rollback(all)
    #expect(RootGenerations.current(all)?.number == 3)
  }

  @Test func errorsNameTheNodeAndTheWayOut() {
    #expect(throws: PiSwarmError.self) { try RootGenerations.rollback([generation(1, .current)]) }
    do {
      _ = try RootGenerations.rollback([generation(1, .current)])
    } catch {
      #expect(error.message.contains("node01") && error.advice?.contains("root ls") == true)
    }
    #expect(throws: PiSwarmError.self) { try RootGenerations.activate([generation(1, .current)], 9) }
  }

  @Test func theListingShowsGenerationsNewestFirst() {
    let entry = RootListing.Entry(
      node: "node01", image: "new", method: "overlay", path: "/srv/nfs/.roots/node01/2", hostKey: "SHA256:x", ready: true,
      generations: [generation(1, .previous, image: "old"), generation(2, .current, image: "new")].map(
        RootListing.Generation.init))
    #expect(RootListing.generations(entry) == "2 current (new), 1 previous (old)")
  }
}
