import Foundation
import PiSwarmCore
import PiSwarmSystem

/// The docker CLI on the head, for what has no Engine API endpoint: compose's conversion to swarm
/// services (`docker stack config`, `stack deploy`, `stack rm`). piswarm does not write a second
/// compose implementation.
///
/// Which one: the first of `docker` on PATH, `/usr/local/bin/docker` and `/usr/bin/docker` that
/// only root can change and that has `docker stack config` (piswarm validates with it before
/// anything is deployed, and hashes its output). That is the CLI the user's own shell finds
/// first (on PATH), unless it is too old: Debian 12's docker.io (20.10) has no
/// `stack config`. With no docker CLI at all, piswarm installs one with apt-get (`docker-cli`
/// where the distribution has it, else `docker.io`).
struct DockerCLI: Sendable {
  let path: String
  /// `stack deploy --detach` and `stack rm --detach` exist (CLI 26+).
  let hasDetach: Bool

  static let candidates = ["/usr/local/bin/docker", "/usr/bin/docker"]

  /// The CLI to use; installs one when there is none and `install` is set.
  static func locate(install: Bool, progress: (String) -> Void = { _ in }) throws(PiSwarmError) -> DockerCLI {
    if let found = try find() { return found }
    guard install else {
      throw PiSwarmError(
        .notFound, "no docker CLI on this machine", advice: "'piswarm up' or 'piswarm stack deploy' installs one with apt-get")
    }
    guard let aptGet = Command.resolve("apt-get") else {
      throw PiSwarmError(
        .system, "no docker CLI on this machine and no apt-get to install one",
        advice: "install the docker CLI (docker-ce-cli from download.docker.com) and run the command again")
    }
    let package = (try? Command("apt-cache", ["show", "docker-cli"]).run().status) == 0 ? "docker-cli" : "docker.io"
    progress("installing the docker CLI (\(package)) with apt-get")
    var environment = ProcessInfo.processInfo.environment
    environment["DEBIAN_FRONTEND"] = "noninteractive"
    try Command(aptGet, ["install", "-y", "--no-install-recommends", package], environment: environment, timeout: 900).check()
    if let found = try find() { return found }
    throw PiSwarmError(.system, "apt-get installed \(package) but no docker CLI was found after it")
  }

  /// The first usable CLI; nil when there is no docker CLI at all; an error when every one
  /// found is unusable (too old, or changeable by others).
  static func find() throws(PiSwarmError) -> DockerCLI? {
    var seen: [String] = []
    var problems: [String] = []
    for candidate in [Command.resolve("docker")].compactMap({ $0 }) + candidates {
      guard let resolved = TrustedExecutable.resolve(candidate), !seen.contains(resolved) else { continue }
      seen.append(resolved)
      if let problem = TrustedExecutable.problem(resolved) {
        problems.append(problem)
        continue
      }
      let help = try? Command(resolved, ["stack", "config", "--help"], timeout: 30).run()
      guard let help, help.status == 0, help.stdoutText.contains("--compose-file") else {
        problems.append("\(resolved) has no 'docker stack config' (Debian 12's docker.io 20.10 has none)")
        continue
      }
      let deploy = try? Command(resolved, ["stack", "deploy", "--help"], timeout: 30).run()
      return DockerCLI(path: resolved, hasDetach: deploy?.stdoutText.contains("--detach") == true)
    }
    guard !problems.isEmpty else { return nil }
    throw PiSwarmError(
      .system, "no usable docker CLI: " + problems.joined(separator: "; "),
      advice:
        "install a docker CLI of version 23 or later only root can change (docker-ce-cli from download.docker.com, or Debian 13's docker-cli), or put one first on PATH"
    )
  }

  func command(_ arguments: [String], timeout: Double? = nil) -> Command {
    Command(path, arguments, timeout: timeout)
  }

  /// `docker stack config -c …`: the files merged and interpolated, or an error naming the file
  /// and line where one can be found.
  func config(_ files: [String]) throws(PiSwarmError) -> StackConfig {
    for file in files where !Files.exists(file) {
      throw PiSwarmError(
        .invalidInput, "the compose file \(file) does not exist", advice: "check the path (in cluster.yml relative to its folder)"
      )
    }
    let output = try command(["stack", "config"] + files.flatMap { ["-c", $0] }, timeout: 60).run()
    guard output.status == 0 else {
      let message = output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
      let texts = files.map { ComposeErrors.File(path: $0, text: (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "") }
      if let located = ComposeErrors.locate(message, in: texts) {
        throw PiSwarmError(.invalidInput, located, advice: "fix the compose file; nothing was deployed")
      }
      throw PiSwarmError(
        .invalidInput, "the compose file\(files.count == 1 ? "" : "s") \(files.joined(separator: ", ")): \(message)",
        advice: "fix the compose file; nothing was deployed")
    }
    guard let config = StackConfig.parse(output.stdoutText) else {
      throw PiSwarmError(
        .invalidInput, "the compose file\(files.count == 1 ? "" : "s") \(files.joined(separator: ", ")) define no services",
        advice: "a stack needs at least one service under services:")
    }
    return config
  }
}
