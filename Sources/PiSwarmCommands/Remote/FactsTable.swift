import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

enum FactsTable {
  static func render(_ rows: [(String, [String: String], String?)]) -> String {
    let header = [
      "NODE", "ARCH", "MODEL", "OS", "KERNEL", "ROOT", "MEMORY", "DISK FREE", "TEMP", "THROTTLED", "UPTIME", "DOCKER", "SWARM",
    ]
    let body = rows.map { node, facts, error -> [String] in
      guard error == nil else { return [node, "unreachable"] + Array(repeating: "-", count: header.count - 2) }
      return [
        node, facts["arch"] ?? "-", facts["model"] ?? "-", facts["os"] ?? "-", facts["kernel"] ?? "-",
        facts["root"].flatMap { $0.isEmpty ? nil : $0 } ?? "-",
        megabytes(facts["memory_available_kb"]) + "/" + megabytes(facts["memory_total_kb"]),
        megabytes(facts["disk_available_kb"]), facts["cpu_temp_c"].map { $0 + "C" } ?? "-",
        facts["throttled"].map(NodeFacts.describeThrottled) ?? "-", duration(facts["uptime_s"]), facts["docker"] ?? "-",
        facts["swarm"] ?? "-",
      ]
    }
    return TextTable.render(header: header, rows: body)
  }

  static func megabytes(_ kilobytes: String?) -> String {
    guard let kilobytes, let value = Double(kilobytes) else { return "-" }
    return value >= 1024 * 1024 ? String(format: "%.1fG", value / 1024 / 1024) : String(format: "%.0fM", value / 1024)
  }

  static func duration(_ seconds: String?) -> String {
    guard let seconds, let value = Double(seconds) else { return "-" }
    let total = Int(value)
    if total >= 86400 { return "\(total / 86400)d\(total % 86400 / 3600)h" }
    if total >= 3600 { return "\(total / 3600)h\(total % 3600 / 60)m" }
    return "\(total / 60)m\(total % 60)s"
  }
}
