import PiSwarmCore
import PiSwarmTestSupport
import Testing

/// Which replicated services a drain would stop whole: only those whose every running task is
/// on the drained node; with 2 replicas or more they are spread onto a Ready, Active node their
/// placement allows, with 1 replica (or nowhere to go) they are named as briefly unavailable.
@Suite struct ServiceSpreadTests {
  typealias Spread = ServiceSpread

  /// node01 a manager, node02 and node03 workers (node03 labelled rack=b, an x86 engine label).
  static let members = [
    Spread.Member(id: "N1", hostname: "node01", role: .manager, takesTasks: true, architecture: "aarch64"),
    Spread.Member(id: "N2", hostname: "node02", role: .worker, takesTasks: true, labels: ["rack": "a"], architecture: "aarch64"),
    Spread.Member(
      id: "N3", hostname: "node03", role: .worker, takesTasks: true, labels: ["rack": "b"], engineLabels: ["disk": "SSD"],
      architecture: "aarch64"),
  ]

  static func tasks(_ placement: [(String, String)]) -> [Spread.Task] {
    placement.map { Spread.Task(service: $0.0, node: $0.1) }
  }

  @Test func aServiceWithAllItsTasksOnTheNodeIsSpreadOntoTheOthers() {
    let web = Spread.Service(id: "S1", name: "web", replicas: 2)
    let needs = Spread.needs(
      draining: "N3", services: [web], tasks: Self.tasks([("S1", "N3"), ("S1", "N3")]), members: Self.members)
    #expect(needs == [.spread(web, onto: ["node01", "node02"])])
  }

  @Test func aServiceWithATaskElsewhereNeedsNothing() {
    let web = Spread.Service(id: "S1", name: "web", replicas: 2)
    let needs = Spread.needs(
      draining: "N3", services: [web], tasks: Self.tasks([("S1", "N2"), ("S1", "N3")]), members: Self.members)
    #expect(needs.isEmpty)
    #expect(Spread.summary(needs, node: "node03") == "no replicated service runs all its tasks on node03")
  }

  @Test func globalServicesJobsAndServicesWithNoRunningTaskAreLeftAlone() {
    let agent = Spread.Service(id: "G", name: "agent", replicas: nil)
    let idle = Spread.Service(id: "I", name: "idle", replicas: 2)
    let scaledToZero = Spread.Service(id: "Z", name: "zero", replicas: 0)
    let needs = Spread.needs(
      draining: "N3", services: [agent, idle, scaledToZero], tasks: Self.tasks([("G", "N3")]), members: Self.members)
    #expect(needs.isEmpty)
  }

  @Test func oneReplicaIsNamedNotSpread() {
    let solo = Spread.Service(id: "S1", name: "solo", replicas: 1)
    let needs = Spread.needs(draining: "N2", services: [solo], tasks: Self.tasks([("S1", "N2")]), members: Self.members)
    #expect(needs == [.alone(solo)])
  }

  @Test func onlyReadyActiveNodesTheConstraintsAllowAreTargets() {
    var members = Self.members
    members[0].takesTasks = false  // node01 drained, paused or down
    let workers = Spread.Service(id: "S1", name: "web", replicas: 3, constraints: ["node.role==worker"])
    let needs = Spread.needs(
      draining: "N2", services: [workers], tasks: Self.tasks([("S1", "N2"), ("S1", "N2"), ("S1", "N2")]), members: members)
    #expect(needs == [.spread(workers, onto: ["node03"])])
    let pinned = Spread.Service(id: "S2", name: "db", replicas: 2, constraints: ["node.labels.rack == a"])
    let nowhere = Spread.needs(
      draining: "N2", services: [pinned], tasks: Self.tasks([("S2", "N2"), ("S2", "N2")]), members: members)
    #expect(nowhere == [.nowhere(pinned)])
  }

  /// The scheduler's reading of a constraint: case-insensitive values, a missing label is "",
  /// a key it does not know allows (the scheduler decides).
  @Test(arguments: [
    ("node.role==worker", true), ("node.role!=worker", false), ("node.role == MANAGER", false),
    ("node.hostname==node03", true), ("node.hostname!=node03", false), ("node.id==N3", true),
    ("node.labels.rack==b", true), ("node.labels.rack==B", true), ("node.labels.rack!=b", false),
    ("node.labels.zone==", true), ("node.labels.zone!=x", true), ("node.labels.zone==x", false),
    ("engine.labels.disk==ssd", true), ("engine.labels.disk==hdd", false), ("node.platform.arch==aarch64", true),
    ("node.platform.os==linux", true), ("node.platform.arch==x86_64", false), ("something.else==x", true),
    ("no operator", true),
  ])
  func constraints(constraint: String, allowed: Bool) {
    #expect(Spread.allows(constraint, Self.members[2]) == allowed)
  }

  @Test func theStepSaysWhatItFound() {
    let needs = Spread.needs(
      draining: "N3",
      services: [
        Spread.Service(id: "S1", name: "web", replicas: 2),
        Spread.Service(id: "S2", name: "solo", replicas: 1),
        Spread.Service(id: "S3", name: "db", replicas: 2, constraints: ["node.hostname==node03"]),
        Spread.Service(id: "S4", name: "api", replicas: 3, constraints: ["node.role==worker"]),
        Spread.Service(id: "S5", name: "spread", replicas: 2),
      ],
      tasks: Self.tasks([
        ("S1", "N3"), ("S1", "N3"), ("S2", "N3"), ("S3", "N3"), ("S3", "N3"), ("S4", "N3"), ("S5", "N1"), ("S5", "N3"),
      ]),
      members: Self.members)
    #expect(needs.map(\.service.name) == ["api", "db", "solo", "web"])
    let text = needs.map { Spread.summary([$0], node: "node03") }.joined(separator: "\n") + "\n"
    if let problem = Golden.check(text, named: "service-spread.txt") { Issue.record(Comment(rawValue: problem)) }
  }
}
