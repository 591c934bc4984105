import ArgumentParser
import PiSwarmCore
import PiSwarmLab

enum LabTables {
  static func nodes(_ statuses: [VirtualLab.NodeStatus], managers: Int) -> String {
    let rows = statuses.enumerated().map { index, node in
      [
        node.name, node.ip, node.mac, index < managers ? "manager" : "worker", node.running ? "running" : "stopped",
        node.ssh ? "up" : "down", node.docker ? "up" : "down",
      ]
    }
    return TextTable.render(header: ["NODE", "IP", "MAC", "ROLE", "STATE", "SSH", "DOCKER"], rows: rows)
  }
}
