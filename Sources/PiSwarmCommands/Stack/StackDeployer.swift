import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH
import PiSwarmSystem

/// Deploys one stack through the docker CLI and the cluster's docker context, and waits until
/// its services converged, reading their state through the Engine API (one way of reading).
/// Shared by `stack deploy` and `up`.
struct StackDeployer {
  let cli: DockerCLI
  /// The docker context (the cluster's name).
  let context: String
  /// A manager of the swarm.
  let client: DockerClient
  /// Where the extra compose files go while the CLI reads them (a private folder).
  let stateDirectory: String
  var resolveImage = "always"
  /// Seconds to wait for the services to converge.
  var timeout = 300.0
  var detach = false
  /// A service's progress line (its name without the stack's prefix).
  var progress: @Sendable (String, String) -> Void = { _, _ in }

  /// One service at the end.
  struct Outcome: Encodable, Equatable {
    var service: String
    var state: String
    var running: Int
    var desired: Int
    var error: String?
  }

  /// How a deploy went.
  struct Report: Encodable {
    var stack: String
    /// False when the stack's services already carried this configuration: nothing was deployed.
    var changed: Bool
    var detached: Bool
    var services: [Outcome]
    var failed: [String] { services.filter { $0.state == "failed" }.map(\.service) }
  }

  /// The stack's services in the swarm (names without the `STACK_` prefix), by their hash label.
  func deployed(_ stack: String) throws(PiSwarmError) -> [String: String?] {
    var deployed: [String: String?] = [:]
    for service in try client.services(label: "\(StackConfig.namespaceLabel)=\(stack)") {
      deployed[Self.shortName(service.Spec.Name, stack: stack)] = .some(service.Spec.Labels?[StackConfig.hashLabel])
    }
    return deployed
  }

  static func shortName(_ name: String, stack: String) -> String {
    name.hasPrefix(stack + "_") ? String(name.dropFirst(stack.count + 1)) : name
  }

  /// Deploys `files` (already validated into `config`) as `stack` unless its services carry
  /// this configuration already (or `force`), then waits (unless detached).
  func deploy(
    _ stack: String, files: [String], config: StackConfig, force: Bool = false
  ) throws(PiSwarmError) -> Report {
    let before = try deployed(stack)
    if !force, config.isDeployed(before) {
      return Report(
        stack: stack, changed: false, detached: detach,
        services: try outcomes(stack, config: config, known: [], waited: StackProgress.globalGrace))
    }
    // Tasks that exist now are not this deploy's: their failures are history.
    let services = try client.services(label: "\(StackConfig.namespaceLabel)=\(stack)")
    let known = Set(try client.tasks(services: services.map(\.ID)).map(\.ID))
    let folder = try Self.temporaryFolder(stateDirectory)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let overlay = folder + "/\(stack).piswarm.yml"
    try AtomicFile.write(config.hashOverlay(stack: stack), to: overlay, mode: 0o600)
    var arguments = ["--context", context, "stack", "deploy", "--prune", "--with-registry-auth", "--resolve-image", resolveImage]
    if cli.hasDetach { arguments.append("--detach=true") }
    arguments += (files + [overlay]).flatMap { ["-c", $0] } + [stack]
    var output = try cli.command(arguments, timeout: 600).run()
    // A stack removed just before: the daemon removes its networks after the CLI returned, and
    // this deploy found one about to vanish. Once more, when it is gone.
    if output.status != 0, output.stderrText.contains("network \(stack)_"), output.stderrText.contains("not found") {
      usleep(2_000_000)
      output = try cli.command(arguments, timeout: 600).run()
    }
    guard output.status == 0 else {
      throw PiSwarmError(
        .system, "docker stack deploy \(stack) failed with status \(output.status)",
        advice: "see the docker CLI's message above; 'piswarm stack ps \(stack)' shows what exists",
        cause: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    if detach {
      return Report(
        stack: stack, changed: true, detached: true,
        services: try outcomes(stack, config: config, known: known, waited: 0))
    }
    return Report(stack: stack, changed: true, detached: false, services: try wait(stack, config: config, known: known))
  }

  /// Polls until every service converged or failed, or the timeout passed.
  func wait(_ stack: String, config: StackConfig, known: Set<String>) throws(PiSwarmError) -> [Outcome] {
    let start = Date()
    let deadline = Deadline(in: timeout)
    var shown: [String: String] = [:]
    while true {
      let waited = Date().timeIntervalSince(start)
      let now = try outcomes(stack, config: config, known: known, waited: waited)
      for outcome in now {
        let line = outcome.state == "converging" ? (outcome.error ?? "") : outcome.state + (outcome.error.map { ": \($0)" } ?? "")
        let text = outcome.state == "converged" ? "converged: \(outcome.running)/\(outcome.desired) running" : line
        if shown[outcome.service] != text {
          shown[outcome.service] = text
          progress(outcome.service, text)
        }
      }
      if now.allSatisfy({ $0.state != "converging" }) { return now }
      if deadline.hasPassed || Cancellation.isCancelled {
        return now.map { outcome in
          guard outcome.state == "converging" else { return outcome }
          var failed = outcome
          failed.state = "failed"
          failed.error =
            Cancellation.isCancelled
            ? "interrupted while converging (\(outcome.error ?? ""))"
            : "not converged within \(Int(timeout)) s: \(outcome.error ?? "")"
          return failed
        }
      }
      usleep(waited < 5 ? 200_000 : 500_000)
    }
  }

  /// Each service of `config`, as the swarm reports it now.
  func outcomes(_ stack: String, config: StackConfig, known: Set<String>, waited: Double) throws(PiSwarmError) -> [Outcome] {
    let services = try client.services(label: "\(StackConfig.namespaceLabel)=\(stack)")
    let tasks = try client.tasks(services: services.map(\.ID)).filter { !known.contains($0.ID) }
    return config.services.map { name in
      guard let service = services.first(where: { Self.shortName($0.Spec.Name, stack: stack) == name }) else {
        return Outcome(service: name, state: "converging", running: 0, desired: 0, error: "not created yet")
      }
      let own = tasks.filter { $0.ServiceID == service.ID }.sorted { ($0.CreatedAt ?? "") < ($1.CreatedAt ?? "") }
      let seen = StackProgress.Service(
        name: name, global: service.Spec.Mode?.Global != nil, running: service.ServiceStatus?.RunningTasks ?? 0,
        desired: service.ServiceStatus?.DesiredTasks ?? 0, update: service.UpdateStatus?.State,
        updateMessage: service.UpdateStatus?.Message)
      let state = StackProgress.state(
        seen,
        tasks: own.map {
          StackProgress.Task(
            slot: $0.Slot.map(String.init) ?? $0.NodeID ?? $0.ID, state: $0.Status.State, error: $0.Status.Err)
        }, waited: waited)
      switch state {
      case .converged: return Outcome(service: name, state: "converged", running: seen.running, desired: seen.desired)
      case .converging(let why):
        return Outcome(service: name, state: "converging", running: seen.running, desired: seen.desired, error: why)
      case .failed(let why):
        return Outcome(service: name, state: "failed", running: seen.running, desired: seen.desired, error: why)
      }
    }
  }

  /// A private folder for this run's extra compose files, in the state directory (0700).
  static func temporaryFolder(_ stateDirectory: String) throws(PiSwarmError) -> String {
    try Files.makePrivateDirectory(stateDirectory)
    let folder = "\(stateDirectory)/stack-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try Files.makePrivateDirectory(folder)
    return folder
  }
}
