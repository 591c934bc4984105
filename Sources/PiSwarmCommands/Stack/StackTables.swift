import PiSwarmCore

/// The stack commands' tables. Pure.
enum StackTables {
  static func deploy(_ report: StackDeployer.Report) -> String {
    TextTable.render(
      header: ["SERVICE", "STATE", "RUNNING", "ERROR"],
      rows: report.services.map {
        ["\(report.stack)_\($0.service)", $0.state, "\($0.running)/\($0.desired)", $0.state == "converged" ? "" : $0.error ?? ""]
      })
  }

  /// One stack of `stack ls`.
  struct Stack: Encodable, Equatable {
    var name: String
    var services: Int
    var running: Int
    var desired: Int
    /// Whether cluster.yml's stacks: has it.
    var inClusterFile: Bool

    enum CodingKeys: String, CodingKey {
      case name, services, running, desired
      case inClusterFile = "in_cluster_file"
    }
  }

  static func list(_ stacks: [Stack]) -> String {
    TextTable.render(
      header: ["NAME", "SERVICES", "TASKS", "IN CLUSTER.YML"],
      rows: stacks.map { [$0.name, "\($0.services)", "\($0.running)/\($0.desired)", $0.inClusterFile ? "yes" : "no"] })
  }

  /// One task of `stack ps`.
  struct Task: Encodable, Equatable {
    var task: String
    var service: String
    var node: String
    var desired: String
    var state: String
    var error: String?
  }

  static func tasks(_ tasks: [Task]) -> String {
    TextTable.render(
      header: ["TASK", "NODE", "DESIRED", "STATE", "ERROR"],
      rows: tasks.map { [$0.task, $0.node, $0.desired, $0.state, $0.error ?? ""] })
  }
}
