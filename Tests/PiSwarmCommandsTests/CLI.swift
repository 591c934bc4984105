import Foundation
import PiSwarmSystem
import PiSwarmTestSupport

/// Runs the built `piswarm` binary, as a user would.
enum CLI {
  static var binary: String {
    // The test bundle sits in the same products folder as the executable.
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var folder = runner.deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = folder.appendingPathComponent("piswarm").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/piswarm").path
  }

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
