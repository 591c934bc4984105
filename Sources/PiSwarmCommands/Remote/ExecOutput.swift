import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

enum ExecOutput {
  /// Each node's output under a header line, in target order.
  static func grouped(_ results: [NodeResult]) -> String {
    results.map { result in
      var text = "── \(result.node) (\(result.host)) \(result.status)" + String(format: " %.2fs", result.seconds) + "\n"
      text += result.stdout
      if !result.stdout.isEmpty && !result.stdout.hasSuffix("\n") { text += "\n" }
      // For ssh's own failures the message says it better than ssh's stderr (kept in --json).
      let detail = result.outcome == .ok || result.outcome == .failed ? result.stderr : (result.message ?? result.stderr)
      text += detail
      if !detail.isEmpty && !detail.hasSuffix("\n") { text += "\n" }
      return text
    }.joined()
  }
}
