import Foundation
import PiSwarmCore
import PiSwarmDocker
import Testing

/// `up --only STEPS` and `plan --only STEPS`: the one plan, narrowed to some steps.
@Suite struct OnlyStepsPlanTests {
  @Test func onlyKeepsTheStepsAskedForAndEveryRefusal() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3, power: PowerPlanTests.lab)
    run.unreachable = ["node03": "connection refused"]
    let cold = run.plan()
    #expect(cold.bootsFirst)
    // Without power, a cold node is not switched on, and the run does not wait for a second round.
    let docker = cold.only(["docker", "swarm"])
    #expect(!docker.bootsFirst)
    #expect(!docker.actions.contains { $0.step == "power" }, "\(docker.actions.map(\.id))")
    #expect(cold.only(["power"]).actions.map(\.id) == ["power on node03", "wait boot node03"])

    run.unreachable = [:]
    let warm = run.plan()
    #expect(warm.only(Set(RunAction.steps)) == warm, "every step: the whole plan")
    #expect(warm.only(["docker"]).actions.isEmpty, "the harness's Docker is set up: \(warm.actions.map(\.id))")
    #expect(warm.only(["swarm"]).actions.map(\.id) == warm.actions.map(\.id))
    #expect(warm.only(["stack"]).actions.isEmpty)

    // Preflight is about Docker and the swarm: it does not hold back a run of only power.
    let blocked = RunPlan(
      findings: [Preflight.Finding(node: "node02", check: "docker", severity: .error, message: "Docker is not installed")],
      actions: [.initSwarm(node: "node01")])
    #expect(blocked.blocked && blocked.only(["docker"]).blocked && blocked.only(["stack"]).blocked)
    #expect(!blocked.only(["power"]).blocked && !blocked.only(["power", "registry"]).blocked)

    let refused = RunPlan(actions: [.refuse(node: "node02", reason: "in another swarm"), .initSwarm(node: "node01")])
    #expect(refused.only(["docker"]).actions == [.refuse(node: "node02", reason: "in another swarm")])
  }
}
