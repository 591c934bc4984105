import Foundation
import PiSwarmCore
import PiSwarmDocker
import Testing

/// The netboot step of `up` in the one planner: from what a dry run of netboot apply found
/// (files that would change, restarts they owe, each netboot node's root), the actions, first
/// of all, before any node is switched on; `--only netboot`; the executor runs them in order.
@Suite struct NetbootPlanTests {
  static let netbootNodes = [
    "node02": "boot: netboot, mac: 'b8:27:eb:00:00:02', docker_storage: 'loopfile:8G'",
    "node03": "boot: netboot, mac: 'b8:27:eb:00:00:03', docker_storage: 'loopfile:8G'",
  ]

  static func harness() throws -> RunHarness {
    try RunHarness(managers: ["node01"], nodes: 3, power: PowerPlanTests.lab, nodeKeys: netbootNodes)
  }

  static func seen(_ cluster: Cluster) -> NetbootObservation {
    let tftp = cluster.head.tftpRoot
    return NetbootObservation(
      changes: [
        tftp + "/b8-27-eb-00-00-02", tftp + "/b8-27-eb-00-00-02/cmdline.txt", cluster.head.dnsmasqConf, "/state/netboot/exports",
      ],
      restarts: [.dnsmasq, .exports],
      roots: ["node02": .missing(image: "raspios"), "node03": .stale(image: "raspios", paths: ["/etc/hostname"])])
  }

  @Test func netbootComesFirstBeforeNodesAreSwitchedOn() throws {
    let run = try Self.harness()
    run.unreachable = ["node02": "connection refused", "node03": "connection refused"]
    run.netboot = Self.seen(run.cluster)
    let plan = run.plan()
    #expect(plan.bootsFirst)
    #expect(
      plan.actions.map(\.id) == [
        "root node02", "root node03", "netboot files on head", "dnsmasq restart", "NFS exports reload",
        "power on node02", "power on node03", "wait boot node02", "wait boot node03",
      ])
    #expect(plan.actions.prefix(5).allSatisfy { $0.step == "netboot" })
    #expect(plan.actions.map(\.place).prefix(5) == ["node02", "node03", "head", "head", "head"])
    #expect(plan.actions[0].change == "make its root from raspios")
    #expect(plan.actions[1].change == "converge its root (from raspios): 1 file(s) (/etc/hostname)")
    #expect(
      plan.actions[2].change
        == "netboot files: 4 change(s) (tftp/b8-27-eb-00-00-02, tftp/b8-27-eb-00-00-02/cmdline.txt, "
        + "\(run.cluster.head.dnsmasqConf.split(separator: "/").last ?? ""), …)")

    let report = run.execute(plan)
    #expect(report.results.allSatisfy { $0.status == .done }, "\(report.results)")
    #expect(run.netbooted.all == ["root node02", "root node03", "files", "restart dnsmasq", "restart exports"])
    // Switched on in parallel (either first), both before any wait.
    let powered = run.powered.all
    #expect(powered.count == 4 && Set(powered.prefix(2)) == ["on node02", "on node03"], "\(powered)")
    #expect(Set(powered.suffix(2)) == ["wait node02", "wait node03"], "\(powered)")
  }

  @Test func aWarmClusterGetsNetbootBeforeEverythingElseAndNothingOnceCurrent() throws {
    let run = try Self.harness()
    run.netboot = NetbootObservation(changes: ["/etc/dnsmasq.d/piswarm.conf"], restarts: [.dnsmasq], roots: [:])
    let plan = run.plan()
    #expect(!plan.bootsFirst)
    #expect(Array(plan.actions.map(\.id).prefix(2)) == ["netboot files on head", "dnsmasq restart"])
    #expect(plan.actions.map(\.id).contains("init node01"))

    // Nothing to change: nothing netboot in the plan.
    run.netboot = NetbootObservation(roots: ["node02": .current, "node03": .current])
    #expect(!run.plan().actions.contains { $0.step == "netboot" })
    // A cluster without netboot nodes is not observed: nothing netboot either.
    run.netboot = nil
    #expect(!run.plan().actions.contains { $0.step == "netboot" })
  }

  @Test func onlyNetbootKeepsTheNetbootActionsAndDoesNotWaitForBoots() throws {
    let run = try Self.harness()
    run.unreachable = ["node02": "connection refused", "node03": "connection refused"]
    run.netboot = Self.seen(run.cluster)
    let plan = run.plan().only(["netboot"])
    #expect(!plan.bootsFirst)
    #expect(
      plan.actions.map(\.id) == ["root node02", "root node03", "netboot files on head", "dnsmasq restart", "NFS exports reload"])
    #expect(!run.plan().only(["power"]).actions.contains { $0.step == "netboot" })
    #expect(RunAction.steps.first == "netboot")
  }

  @Test func aRootThatCannotBeMadeLeavesItsNodeAloneAndFilesThatFailSkipTheRestarts() throws {
    let run = try Self.harness()
    run.unreachable = ["node02": "connection refused", "node03": "connection refused"]
    run.netboot = NetbootObservation(
      changes: ["/etc/dnsmasq.d/piswarm.conf"], restarts: [.dnsmasq],
      roots: ["node02": .failed("image raspios (defaults.image) is not imported"), "node03": .missing(image: "raspios")])
    run.failingNetboot = ["files"]
    let plan = run.plan()
    let refusal = try #require(plan.actions.first)
    #expect(refusal.id == "refuse root node02" && refusal.step == "error" && refusal.place == "node02")
    #expect(refusal.change == "its root cannot be made: image raspios (defaults.image) is not imported")
    let report = run.execute(plan)
    let status = Dictionary(uniqueKeysWithValues: report.results.map { ($0.action.id, $0.status) })
    #expect(status["refuse root node02"] == .refused)
    #expect(status["root node03"] == .done)
    #expect(status["netboot files on head"] == .failed && status["dnsmasq restart"] == .skipped)
    // The node whose root cannot be made is not switched on; the other one is.
    #expect(status["power on node02"] == .skipped && status["power on node03"] == .done)
    #expect(run.netbooted.all == ["root node03", "files"])

    // Files that cannot be rendered: the head's netboot is refused, with why.
    run.netboot = NetbootObservation(error: "dnsmasq rejects the configuration piswarm rendered; nothing was written")
    let refused = try #require(run.plan().actions.first { $0.id == "refuse netboot files" })
    #expect(refused.place == "head" && refused.change.hasPrefix("the netboot files cannot be written: dnsmasq rejects"))
  }
}
