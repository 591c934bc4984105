import Foundation
import PiSwarmCore
import PiSwarmTestSupport
import Testing

@testable import PiSwarmDocker

/// What the stack commands read through the Engine API: a stack's services with their task
/// counts, their tasks with their errors, its networks; filters sent as percent-encoded JSON.
@Suite struct StackReadsTests {
  static let services = """
    [{"ID":"S1","Version":{"Index":12},"CreatedAt":"2026-01-01T00:00:00Z",
      "Spec":{"Name":"demo_web","Labels":{"com.docker.stack.namespace":"demo","io.piswarm.stack.config":"cabcb0067b9dca52"},
              "Mode":{"Replicated":{"Replicas":4}},"TaskTemplate":{"ContainerSpec":{"Image":"x"}}},
      "ServiceStatus":{"RunningTasks":3,"DesiredTasks":4,"CompletedTasks":0},"UpdateStatus":{"State":"updating","Message":"update in progress"}},
     {"ID":"S2","Version":{"Index":13},"Spec":{"Name":"demo_agent","Labels":{"com.docker.stack.namespace":"demo"},"Mode":{"Global":{}}},
      "ServiceStatus":{"RunningTasks":5,"DesiredTasks":5,"CompletedTasks":0}}]
    """
  static let tasks = """
    [{"ID":"T1","ServiceID":"S1","NodeID":"N1","Slot":2,"CreatedAt":"2026-01-01T00:00:01.5Z","DesiredState":"shutdown",
      "Status":{"State":"rejected","Err":"No such image: x","Message":"preparing","Timestamp":"2026-01-01T00:00:02Z"}},
     {"ID":"T2","ServiceID":"S2","NodeID":"N1","CreatedAt":"2026-01-01T00:00:01Z","DesiredState":"running","Status":{"State":"running"}}]
    """

  @Test func readsAStacksServicesTasksAndNetworks() throws {
    let label = "%7B%22label%22%3A%5B%22com.docker.stack.namespace%3Ddemo%22%5D%7D"
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/services?status=true&filters=\(label) ": (200, [:], Self.services),
      "GET /v1.41/tasks?filters=%7B%22service%22%3A%5B%22S1%22%2C%22S2%22%5D%7D ": (200, [:], Self.tasks),
      "GET /v1.41/networks?filters=\(label) ": (200, [:], "[{\"Name\":\"demo_default\",\"Id\":\"X\"}]"),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    let services = try client.services(label: "com.docker.stack.namespace=demo")
    #expect(services.map(\.Spec.Name) == ["demo_web", "demo_agent"])
    #expect(services[0].stack == "demo")
    #expect(services[0].Spec.Labels?[StackConfig.hashLabel] == "cabcb0067b9dca52")
    #expect(services[0].ServiceStatus == SwarmService.Counts(RunningTasks: 3, DesiredTasks: 4))
    #expect(services[0].UpdateStatus?.State == "updating")
    #expect(services[0].Spec.Mode?.Replicated?.Replicas == 4 && services[1].Spec.Mode?.Global != nil)
    let tasks = try client.tasks(services: services.map(\.ID))
    #expect(tasks.map(\.ID) == ["T1", "T2"])
    #expect(tasks[0].Slot == 2 && tasks[0].Status.State == .rejected && tasks[0].Status.Err == "No such image: x")
    #expect(tasks[1].Slot == nil && tasks[1].DesiredState == .running)
    #expect(try client.networkNames(label: "com.docker.stack.namespace=demo") == ["demo_default"])
    // No services, no request.
    let before = stub.sent().count
    #expect(try client.tasks(services: []).isEmpty)
    #expect(stub.sent().count == before)
  }
}
