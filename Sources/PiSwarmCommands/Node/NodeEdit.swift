import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

enum NodeEdit {
  /// Validates the edited text; prints its new diagnostics and throws if it has errors.
  static func checkResult(_ text: String, path: String, before: [Diagnostic], what: String) throws(PiSwarmError) {
    let decoded = ClusterFile.decode(text: text)
    guard decoded.diagnostics.hasErrors else {
      let old = Set(before.map(\.message))
      for warning in decoded.diagnostics.warnings where !old.contains(warning.message) {
        Console.err(warning.formatted(file: path))
      }
      return
    }
    for diagnostic in decoded.diagnostics.errors { Console.err(diagnostic.formatted(file: path + " (after \(what))")) }
    throw PiSwarmError(.invalidInput, "\(what) would make \(path) invalid; nothing was changed")
  }
}
