import Foundation
import PiSwarmCore

/// `/metrics` in Prometheus' text format (version 0.0.4), rendered by a pure function from the
/// same observations as the pages. Not swift-prometheus: its registry keeps every series it was
/// ever given, while here each scrape is the rack as it is now (a node taken out of the cluster
/// file, or a phase left behind, must vanish), and a pure renderer gets a golden test.
public enum Metrics {
  public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  struct Family {
    var name: String
    var help: String
    var samples: [(labels: [(String, String)], value: Double)] = []
  }

  public static func render(_ cluster: Cluster, _ observations: [String: NodeView]) -> String {
    var up = Family(name: "piswarm_node_up", help: "1 when the node's SSH session is up, 0 when it is down.")
    var power = Family(
      name: "piswarm_node_power", help: "The node's power as its driver reads it (one series per state, 1 for the current one).")
    var temperature = Family(name: "piswarm_node_temperature_celsius", help: "CPU temperature.")
    var throttled = Family(name: "piswarm_node_throttled", help: "vcgencmd get_throttled flags: 1 when set, now or since boot.")
    var boot = Family(
      name: "piswarm_node_boot_phase", help: "The furthest boot phase of the node's last boot (1 for the current phase).")
    var swarm = Family(name: "piswarm_node_swarm_state", help: "The swarm's state of the node (1 for the current state).")
    var availability = Family(
      name: "piswarm_node_swarm_availability", help: "The node's swarm availability (1 for the current one).")
    var tasks = Family(name: "piswarm_node_running_tasks", help: "Swarm tasks running on the node.")
    var memory = Family(name: "piswarm_node_memory_available_bytes", help: "Memory available.")
    var memoryTotal = Family(name: "piswarm_node_memory_total_bytes", help: "Memory in all.")
    var disk = Family(name: "piswarm_node_disk_available_bytes", help: "Space available on the root filesystem.")
    for node in cluster.nodes {
      let seen = observations[node.name] ?? NodeView()
      let labels = [("node", node.name)]
      switch seen.reach {
      case .up: up.samples.append((labels, 1))
      case .down: up.samples.append((labels, 0))
      case .unknown: break
      }
      if let state = seen.power { power.samples.append((labels + [("state", state)], 1)) }
      if let phase = seen.bootPhase { boot.samples.append((labels + [("phase", phase)], 1)) }
      if let standing = seen.swarm {
        swarm.samples.append((labels + [("state", standing.state), ("role", standing.role)], 1))
        availability.samples.append((labels + [("availability", standing.availability)], 1))
        tasks.samples.append((labels, Double(standing.runningTasks.count)))
      }
      guard seen.reach == .up else { continue }
      if let value = seen.sample.temperature { temperature.samples.append((labels, value)) }
      if let bits = seen.sample.throttled {
        let flags = ["under_voltage", "frequency_capped", "throttled", "soft_temperature_limit"]
        for (bit, flag) in flags.enumerated() {
          throttled.samples.append((labels + [("flag", flag), ("when", "now")], bits & (1 << UInt32(bit)) != 0 ? 1 : 0))
          throttled.samples.append(
            (labels + [("flag", flag), ("when", "since_boot")], bits & (1 << UInt32(bit + 16)) != 0 ? 1 : 0))
        }
      }
      if let value = seen.sample.memory {
        memory.samples.append((labels, value.available * 1024))
        memoryTotal.samples.append((labels, value.total * 1024))
      }
      if let value = seen.sample.disk { disk.samples.append((labels, value.available * 1024)) }
    }
    return [up, power, boot, swarm, availability, tasks, temperature, throttled, memory, memoryTotal, disk].map(family).joined()
  }

  static func family(_ family: Family) -> String {
    var text = "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
    for sample in family.samples {
      let labels = sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
      text += "\(family.name){\(labels)} \(number(sample.value))\n"
    }
    return text
  }

  /// A label value: backslash, double quote and newline escaped, as the format says.
  static func escape(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n")
  }

  static func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
  }
}
