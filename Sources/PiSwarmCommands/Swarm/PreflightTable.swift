import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH

enum PreflightTable {
  /// One row per problem, naming every node that has it (errors first).
  static func render(_ findings: [Preflight.Finding]) -> String {
    var order: [String] = []
    var nodes: [String: [String]] = [:]
    var first: [String: Preflight.Finding] = [:]
    for finding in findings.sorted(by: { $0.severity == .error && $1.severity != .error }) {
      let key = "\(finding.severity.rawValue)|\(finding.check)|\(finding.message)"
      if first[key] == nil {
        order.append(key)
        first[key] = finding
      }
      nodes[key, default: []].append(finding.node)
    }
    let rows = order.compactMap { key in
      first[key].map { [(nodes[key] ?? []).joined(separator: ","), $0.check, $0.severity.rawValue, $0.message] }
    }
    return TextTable.render(header: ["NODES", "CHECK", "SEVERITY", "PROBLEM"], rows: rows)
  }
}
