import Foundation
import PiSwarmCore
import Testing

@testable import PiSwarmCommands
@testable import PiSwarmDocker

/// The stack commands' output, as pure functions: `stack ps`'s rows (the tasks that should run,
/// a replica's failed last task, never a drained node's), the deploy table and `stack ls`'s JSON.
@Suite struct StackTablesTests {
  static func task(
    _ id: String, service: String, slot: Int? = nil, node: String, created: String, desired: SwarmTaskState,
    state: SwarmTaskState, error: String? = nil
  ) -> SwarmTask {
    SwarmTask(
      ID: id, NodeID: node, ServiceID: service, Slot: slot, CreatedAt: created, DesiredState: desired,
      Status: .init(State: state, Err: error))
  }

  @Test func psShowsWhatShouldRunAndAReplicasFailedLastTask() throws {
    let services = try JSONDecoder().decode(
      [SwarmService].self,
      from: Data(
        """
        [{"ID":"S1","Version":{"Index":1},"Spec":{"Name":"demo_web"}},{"ID":"S2","Version":{"Index":1},"Spec":{"Name":"demo_agent"}}]
        """.utf8))
    let nodes = try JSONDecoder().decode(
      [SwarmNode].self,
      from: Data(
        """
        [{"ID":"N1","Version":{"Index":1},"Spec":{"Role":"manager","Availability":"active"},"Description":{"Hostname":"node01"},"Status":{"State":"ready"}},
         {"ID":"N2","Version":{"Index":1},"Spec":{"Role":"worker","Availability":"drain"},"Description":{"Hostname":"node02"},"Status":{"State":"ready"}}]
        """.utf8))
    let tasks = [
      Self.task("a", service: "S1", slot: 1, node: "N1", created: "1", desired: .running, state: .running),
      // Slot 2 failed and waits for its replacement: its last task is shown with its error.
      Self.task("b", service: "S1", slot: 2, node: "N1", created: "1", desired: .shutdown, state: .failed, error: "exit 1"),
      Self.task(
        "c", service: "S1", slot: 2, node: "N1", created: "2", desired: .shutdown, state: .rejected, error: "No such image"),
      // Slot 3 moved off the drained node: only its running task.
      Self.task("d", service: "S1", slot: 3, node: "N2", created: "1", desired: .shutdown, state: .shutdown),
      Self.task("e", service: "S1", slot: 3, node: "N1", created: "2", desired: .running, state: .running),
      // The global service's task on the drained node ended, "failed" by its container's exit
      // code when stopped: not shown (nothing should run there).
      Self.task(
        "f", service: "S2", node: "N2", created: "1", desired: .shutdown, state: .failed, error: "task: non-zero exit (143)"),
      Self.task("g", service: "S2", node: "N1", created: "1", desired: .running, state: .starting),
    ]
    let rows = StackPs.rows(tasks, services: services, nodes: nodes, all: false)
    #expect(rows.map(\.task) == ["demo_agent.N1", "demo_web.1", "demo_web.2", "demo_web.3"])
    #expect(rows.map(\.node) == ["node01", "node01", "node01", "node01"])
    #expect(rows[2].state == "rejected" && rows[2].error == "No such image")
    #expect(StackPs.rows(tasks, services: services, nodes: nodes, all: true).count == 7)
    let table = StackTables.tasks(rows)
    #expect(table.hasPrefix("TASK ") && table.contains("demo_web.2     node01  shutdown  rejected  No such image"), "\(table)")
  }

  @Test func deployAndListOutput() throws {
    let report = StackDeployer.Report(
      stack: "demo", changed: true, detached: false,
      services: [
        .init(service: "agent", state: "converged", running: 5, desired: 5),
        .init(service: "web", state: "failed", running: 3, desired: 4, error: "a task failed 2 times: exit 1"),
      ])
    #expect(report.failed == ["web"])
    let table = StackTables.deploy(report)
    #expect(
      table.contains("demo_agent  converged  5/5")
        && table.contains("demo_web    failed     3/4      a task failed 2 times: exit 1"), "\(table)")
    let list = [StackTables.Stack(name: "demo", services: 2, running: 9, desired: 9, inClusterFile: true)]
    let json = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
    #expect(json.contains("\"in_cluster_file\":true"), "\(json)")
  }
}
