import Foundation
import PiSwarmSystem
import PiSwarmTestSupport

/// Runs the built `piswarm` binary, as a user would.
enum CLI {
  static var binary: String { TestBinary.piswarm() }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs in `directory` with a clean piswarm environment: state in `directory/state` unless
  /// `environment` says otherwise.
  static func run(_ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:]) throws -> Result {
    var env = ProcessInfo.processInfo.environment
    env["PISWARM_FILE"] = nil
    env["PISWARM_STATE_DIR"] = directory.file("state")
    env["HOME"] = directory.path
    for (key, value) in environment { env[key] = value }
    let output = try Command(binary, arguments, environment: env, directory: directory.path).run()
    return Result(status: output.status, stdout: output.stdoutText, stderr: output.stderrText)
  }
}
