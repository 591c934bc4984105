import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// `stacks:` in cluster.yml, the stack files piswarm renders (the hash overlay, Portainer's
/// stack), where compose errors are, when a stack converged, and what `up` plans for stacks.
@Suite struct StacksTests {
  static let withStacks = baseFile + "stacks:\n  web: [web/compose.yml, web/prod.yml]\n  monitor: /srv/monitor.yml\n"

  @Test func stacksAreReadInTheFilesOrderWithTheirFiles() throws {
    let cluster = try #require(decode(Self.withStacks).cluster)
    #expect(
      cluster.stacks == [
        StackSpec(name: "web", files: ["web/compose.yml", "web/prod.yml"]),
        StackSpec(name: "monitor", files: ["/srv/monitor.yml"]),
      ])
    #expect(
      cluster.stacks[0].resolvedFiles(relativeTo: "/etc/piswarm") == [
        "/etc/piswarm/web/compose.yml", "/etc/piswarm/web/prod.yml",
      ])
    #expect(cluster.stacks[1].resolvedFiles(relativeTo: "/etc/piswarm") == ["/srv/monitor.yml"])
    #expect(try #require(decode(baseFile).cluster).stacks.isEmpty)
  }

  static let cases: [ValidationTests.Case] = [
    .init(text: baseFile + "stacks: [web.yml]\n", location: "33:9", message: "stacks must be a mapping of stack names"),
    .init(text: baseFile + "stacks:\n  Web: web.yml\n", location: "34:3", message: "stack name \"Web\" may hold only"),
    .init(text: baseFile + "stacks:\n  web: []\n", location: "34:8", message: "stack web names no compose file"),
    .init(text: baseFile + "stacks:\n  web:\n", location: "34:7", message: "stack web names no compose file"),
    .init(text: baseFile + "stacks:\n  web: [a.yml, -]\n", location: "34:16", message: "\"-\" (stdin) cannot be a compose file"),
    .init(text: baseFile + "stacks:\n  web: [{ file: a.yml }]\n", location: "34:9", message: "must be a single value"),
    .init(text: baseFile + "stack:\n  web: a.yml\n", location: "33:1", message: "(did you mean \"stacks\"?)"),
  ]

  @Test(arguments: cases)
  func aBrokenStacksSectionIsLocated(_ testCase: ValidationTests.Case) {
    ValidationTests.expectLocated(testCase)
  }

  static let config = StackConfig.parse(
    """
    version: "3.8"
    services:
      web:
        image: piswarm/base:latest
      agent:
        deploy:
          mode: global
        image: piswarm/base:latest

    """)

  @Test func theOverlayLabelsEveryServiceWithTheConfigurationsHash() throws {
    let config = try #require(Self.config)
    #expect(config.version == "3.8")
    #expect(config.services == ["agent", "web"])
    #expect(config.hash.count == 16)
    let overlay = config.hashOverlay(stack: "demo")
    #expect(
      Golden.check(overlay, named: "stack-overlay.yml") == nil, "\(Golden.check(overlay, named: "stack-overlay.yml") ?? "")")
    // What the overlay says is what parses back: the same services, the same version.
    let reread = try #require(StackConfig.parse(overlay))
    #expect(reread.services == config.services && reread.version == config.version)
    // Deployed means: every service there, each with this hash.
    #expect(config.isDeployed(["agent": config.hash, "web": config.hash]))
    #expect(!config.isDeployed(["agent": config.hash]))
    #expect(!config.isDeployed(["agent": config.hash, "web": "0123456789abcdef"]))
    #expect(!config.isDeployed(["agent": config.hash, "web": String?.none]))
    #expect(!config.isDeployed(["agent": config.hash, "web": config.hash, "old": config.hash]))
    #expect(StackConfig.parse("services: []\n") == nil)
    #expect(StackConfig.parse("- a\n") == nil)
  }

  @Test func portainersStackIsRenderedWithItsPlacementAndSecret() {
    let text = Portainer.compose(passwordFile: "/var/lib/piswarm/stacks/portainer/admin-password", secretVersion: "0123456789ab")
    #expect(
      Golden.check(text, named: "portainer-compose.yml") == nil, "\(Golden.check(text, named: "portainer-compose.yml") ?? "")")
    let config = StackConfig.parse(text)
    #expect(config?.services == ["agent", "server"])
    // The server stays where its data is: the labelled manager, unless one is chosen.
    #expect(Portainer.serverNode(labelled: ["node02"], chosen: nil, managers: ["node01", "node02"]) == "node02")
    #expect(Portainer.serverNode(labelled: [], chosen: nil, managers: ["node01", "node02"]) == "node01")
    #expect(Portainer.serverNode(labelled: ["node02"], chosen: "node01", managers: ["node01", "node02"]) == "node01")
    #expect(Portainer.serverNode(labelled: [], chosen: nil, managers: []) == nil)
  }

  @Test func composeErrorsAreFoundInTheFileThatHasThem() {
    let good = ComposeErrors.File(path: "a.yml", text: "version: \"3.8\"\nservices:\n  web:\n    image: x\n")
    let broken = ComposeErrors.File(path: "b.yml", text: "version: \"3.8\"\nservices:\n  web:\n    image: x\n   bad: [\n")
    let syntax = ComposeErrors.locate("yaml: line 2: did not find expected key", in: [good, broken])
    #expect(syntax?.hasPrefix("b.yml:5:4: malformed YAML: did not find expected key") == true, "\(syntax ?? "nil")")
    let schema = ComposeErrors.File(
      path: "c.yml", text: "version: \"3.8\"\nservices:\n  web:\n    image: x\n    deploy:\n      replicaz: 3\n")
    #expect(
      ComposeErrors.locate("services.web.deploy Additional property replicaz is not allowed", in: [good, schema])
        == "c.yml:6:7: services.web.deploy Additional property replicaz is not allowed")
    let ports = ComposeErrors.File(path: "p.yml", text: "services:\n  web:\n    image: x\n    ports: [\"abc:def\"]\n")
    #expect(
      ComposeErrors.locate("services.web.ports.0 Does not match format 'ports'", in: [good, ports])
        == "p.yml:4:13: services.web.ports.0 Does not match format 'ports'")
    // Only the top of the path found (every file has services.web): not placed.
    #expect(
      ComposeErrors.locate("services.web.healthcheck.retries must be a integer", in: [good])
        == "a.yml:3:3: services.web.healthcheck.retries must be a integer")
    #expect(ComposeErrors.locate("open nope.yml: no such file or directory", in: [good]) == nil)
  }

  struct ProgressCase: CustomStringConvertible, Sendable {
    var what: String
    var service: StackProgress.Service
    var tasks: [StackProgress.Task] = []
    var waited = 10.0
    var expected: String
    var description: String { what }
  }

  static let progressCases: [ProgressCase] = [
    .init(what: "all running", service: .init(name: "web", running: 4, desired: 4), expected: "converged"),
    .init(what: "starting", service: .init(name: "web", running: 1, desired: 4), expected: "converging 1/4 running"),
    .init(
      what: "waiting with a word", service: .init(name: "web", running: 0, desired: 4),
      tasks: [.init(slot: "1", state: .pending, error: "no suitable node")], expected: "converging 0/4 running: no suitable node"),
    .init(
      what: "a replica failed twice", service: .init(name: "web", running: 3, desired: 4),
      tasks: [.init(slot: "2", state: .failed, error: "exit 1"), .init(slot: "2", state: .failed, error: "exit 2")],
      expected: "failed 3/4 running; a task failed 2 times: exit 2"),
    .init(
      what: "a replica failed once", service: .init(name: "web", running: 3, desired: 4),
      tasks: [.init(slot: "2", state: .failed, error: "exit 1")], expected: "converging 3/4 running: exit 1"),
    .init(
      what: "a global node whose task was rejected still wants one",
      service: .init(name: "agent", global: true, running: 2, desired: 2),
      tasks: [
        .init(slot: "n1", state: .running), .init(slot: "n2", state: .running),
        .init(slot: "n3", state: .rejected, error: "No such image"),
      ], expected: "converging 2/3 running: No such image"),
    .init(
      what: "a global service not scheduled yet", service: .init(name: "agent", global: true, running: 0, desired: 0),
      waited: 1, expected: "converging 0/0 running"),
    .init(
      what: "a global service no node fits", service: .init(name: "agent", global: true, running: 0, desired: 0),
      waited: 6, expected: "converged"),
    .init(
      what: "a drained node's task still stopping", service: .init(name: "agent", global: true, running: 5, desired: 4),
      tasks: [.init(slot: "n5", state: .shutdown)], expected: "converged"),
    .init(
      what: "an update under way", service: .init(name: "web", running: 4, desired: 4, update: "updating"),
      expected: "converging 4/4 running"),
    .init(
      what: "an update rolled back",
      service: .init(name: "web", running: 4, desired: 4, update: "rollback_completed", updateMessage: "task failed"),
      expected: "failed update rollback_completed: task failed"),
  ]

  @Test(arguments: progressCases)
  func aServiceConvergesOrFails(_ testCase: ProgressCase) {
    let state = StackProgress.state(testCase.service, tasks: testCase.tasks, waited: testCase.waited)
    let text =
      switch state {
      case .converged: "converged"
      case .converging(let why): "converging \(why)"
      case .failed(let why): "failed \(why)"
      }
    #expect(text == testCase.expected)
  }

  @Test func upDeploysAStackOnlyWhenItsServicesDoNotCarryItsHash() throws {
    let cluster = try #require(decode(Self.withStacks).cluster)
    let config = try #require(Self.config)
    var observed = RunObservation(nodes: [:])
    observed.stacks = [
      "web": StackObservation(config: config, deployed: [:]),
      "monitor": StackObservation(config: config, deployed: ["agent": config.hash, "web": config.hash]),
    ]
    #expect(RunPlanner.stacks(observed, cluster: cluster) == [.deployStack(name: "web", new: true)])
    observed.stacks["monitor"]?.deployed = ["agent": config.hash, "web": "0000000000000000"]
    #expect(
      RunPlanner.stacks(observed, cluster: cluster) == [
        .deployStack(name: "web", new: true), .deployStack(name: "monitor", new: false),
      ])
    observed.stacks["web"] = StackObservation(error: "web/compose.yml:3:1: broken")
    observed.stacks["monitor"] = nil
    let refused = RunPlanner.stacks(observed, cluster: cluster)
    #expect(
      refused == [
        .refuseStack(name: "web", reason: "web/compose.yml:3:1: broken"),
        .refuseStack(name: "monitor", reason: "its compose files were not read"),
      ])
    #expect(refused.allSatisfy { $0.isRefusal && $0.step == "error" && $0.node == nil })
    #expect(RunAction.deployStack(name: "web", new: false).id == "deploy stack web")
    #expect(RunAction.deployStack(name: "web", new: false).change == "update stack web (its configuration changed)")
  }
}
