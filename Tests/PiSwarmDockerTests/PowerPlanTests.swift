import Foundation
import PiSwarmCore
import PiSwarmDocker
import Testing

/// `up` from cold in the one planner: nodes that cannot be reached and have a power driver are
/// switched on and waited for first; the rest is planned from a new observation.
@Suite struct PowerPlanTests {
  static let lab = "{driver: lab, lab: t}"

  @Test func coldNodesArePoweredOnAndWaitedForThenTheRestIsPlannedFromANewObservation() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3, power: Self.lab)
    run.unreachable = ["node01": "connection refused", "node03": "connection timed out"]
    let plan = run.plan()
    #expect(plan.bootsFirst && !plan.blocked)
    #expect(plan.actions.map(\.id) == ["power on node01", "power on node03", "wait boot node01", "wait boot node03"])
    #expect(plan.actions.allSatisfy { $0.step == "power" })
    #expect(plan.actions.first?.change == "power on (lab driver)")
    let report = run.execute(plan)
    #expect(report.results.allSatisfy { $0.status == .done }, "\(report.results)")
    // Both switched on (in parallel: either first) before any wait.
    let powered = run.powered.all
    #expect(powered.count == 4, "\(powered)")
    #expect(Set(powered.prefix(2)) == ["on node01", "on node03"], "\(powered)")
    #expect(Set(powered.suffix(2)) == ["wait node01", "wait node03"], "\(powered)")
    // Once up, the next round plans Docker and the swarm for every node.
    run.unreachable = [:]
    let next = run.plan()
    #expect(!next.bootsFirst)
    #expect(next.actions.map(\.id) == ["init node01", "join node02 as worker", "join node03 as worker", "rotate join tokens"])
  }

  /// The head's services need no node: with nodes off they are done in the power round too,
  /// so `up --only registry` does what it says rather than "no changes" (JourneyTests).
  @Test func theHeadsRegistryIsPlannedBesideThePowerRound() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 2, power: Self.lab)
    run.unreachable = ["node02": "connection refused"]
    var cluster = run.cluster
    cluster.registry = RegistrySettings(enabled: true, cache: false)
    var observed = run.observe()
    let paths = RegistryPaths(stateDirectory: "/var/lib/piswarm", settings: cluster.registry)
    observed.registry = RegistryObservation(state: RegistryHead.State(), paths: paths)
    let plan = RunPlanner.plan(observed, cluster: cluster)
    #expect(plan.bootsFirst)
    #expect(plan.actions.map(\.id) == ["registry on head", "power on node02", "wait boot node02"])
    let only = plan.only(["registry"])
    #expect(only.actions.map(\.id) == ["registry on head"] && !only.bootsFirst)
  }

  @Test func poweredNodesGetNoPowerAction() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 2, power: Self.lab)
    let plan = run.plan()
    #expect(!plan.bootsFirst)
    #expect(!plan.actions.contains { $0.step == "power" })
  }

  @Test func unreachableNodesWithPowerNoneAreLeftAloneWithWhyAndTheOthersAreSwitchedOn() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3)
    run.unreachable = ["node02": "connection timed out"]
    let alone = run.plan()
    #expect(!alone.bootsFirst)
    let refusal = try #require(alone.actions.first { $0.node == "node02" })
    #expect(refusal.id == "refuse node02")
    #expect(refusal.change.contains("power: none") && refusal.change.contains("power it on by hand"), "\(refusal.change)")

    // One node with a driver, one without: the first is switched on, the second left alone.
    let mixed = try RunHarness(managers: ["node01"], nodes: 3, power: Self.lab)
    let text = mixed.cluster
    var nodes = text.nodes
    nodes[2].power = .none
    let cluster = Cluster(
      name: text.name, head: text.head, ssh: text.ssh, defaults: text.defaults, swarm: text.swarm, docker: text.docker,
      nodes: nodes)
    var observed = mixed.observe()
    observed.nodes["node02"]?.unreachable = "connection timed out"
    observed.nodes["node03"]?.unreachable = "connection timed out"
    let plan = RunPlanner.plan(observed, cluster: cluster)
    #expect(plan.bootsFirst)
    #expect(plan.actions.map(\.id) == ["refuse node03", "power on node02", "wait boot node02"])
  }

  @Test func aNodeThatFailedToBootIsNotSwitchedOnAgainAndSaysWhere() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3, power: Self.lab)
    run.unreachable = ["node03": "connection timed out"]
    run.bootFailed = ["node03": "stuck in phase tftp: waited 120 s for the kernel to be sent over TFTP"]
    let plan = run.plan()
    #expect(!plan.bootsFirst)
    let refusal = try #require(plan.actions.first { $0.node == "node03" })
    #expect(refusal.change.contains("did not come up after it was powered on: stuck in phase tftp"), "\(refusal.change)")
    #expect(plan.actions.map(\.id).contains("init node01"))
  }

  @Test func aNodeWhosePowerOnFailedIsNotWaitedForAndTheOthersAre() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3, power: Self.lab)
    run.unreachable = ["node02": "connection refused", "node03": "connection refused"]
    run.failingPower = ["node02"]
    run.neverUp = ["node03"]
    let report = run.execute(run.plan())
    let status = Dictionary(uniqueKeysWithValues: report.results.map { ($0.action.id, $0.status) })
    #expect(status["power on node02"] == .failed && status["wait boot node02"] == .skipped)
    #expect(status["power on node03"] == .done && status["wait boot node03"] == .failed)
    #expect(!run.powered.all.contains("wait node02"))
    let stuck = try #require(report.results.first { $0.action.id == "wait boot node03" })
    #expect(stuck.error?.contains("stuck in phase ssh") == true && stuck.notes == ["power-cycled once stuck in phase ssh"])
  }
}
