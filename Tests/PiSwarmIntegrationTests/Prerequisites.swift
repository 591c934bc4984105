import Foundation
import PiSwarmSystem
import Testing

/// Integration tests need root and real components. Under CI=true a missing prerequisite is a
/// failure; elsewhere the tests say why they do not run.
enum Prerequisites {
  static let programs = ["ip", "nsenter", "unshare", "tini-static", "sshd", "ssh", "ssh-keygen", "dockerd", "docker", "busybox"]

  static var missing: [String] {
    var missing = programs.filter { Command.resolve($0) == nil }
    if getuid() != 0 { missing.append("root") }
    return missing
  }

  static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

  /// For `.enabled(if:)`: run when everything is here, or when CI must fail loudly.
  static var shouldRun: Bool { missing.isEmpty || isCI }

  /// Records a failure when something is missing (only reached under CI or when all is there).
  static func require() -> Bool {
    let missing = missing
    if !missing.isEmpty {
      Issue.record("integration prerequisites missing: \(missing.joined(separator: ", ")); run 'make deps' as root")
      return false
    }
    return true
  }
}
