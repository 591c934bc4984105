import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

struct Plan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print what 'piswarm up' would change, per node and step, changing nothing.",
    discussion: """
      Reads every node (preflight, Docker's setup and the swarm's state) and prints the changes
      'up' would make: install docker.io, daemon.json, storage, restart dockerd; init, join as
      manager or worker, promote, demote, labels, unlock (a manager locked by autolock),
      enable or disable autolock, token rotation (also one an earlier run still owes); or
      unchanged.
      Exit 1 when a node cannot be read or preflight finds an error.

      Examples:
        piswarm plan
        piswarm plan --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Step: Encodable {
    var node: String
    var step: String
    var change: String
  }

  func run() throws {
    try reporting {
      let (cluster, _, transport) = try remote.session(global, printWarnings: true)
      let (findings, probed) = transport.reportingNewKeys(cluster.nodes) {
        transport.preflight(
          cluster.nodes, parallel: remote.parallel, alsoRunning: (EngineSetup.probe, EngineSetup.probeEnvironment))
      }
      let engines = EngineProvisioning(cluster: cluster, transport: transport, parallel: remote.parallel, format: false)
        .plans(cluster.nodes, probed: probed)
      var convergence = SwarmConvergence(
        cluster: cluster, parallel: remote.parallel,
        client: { node in DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node))) })
      if let memory = global.existingSwarmMemory() { convergence.memory = memory }
      let outcomes = convergence.plan()
      try Interrupts.finish(transport, cluster.nodes)
      var steps: [Step] = []
      for node in cluster.nodes {
        for finding in findings where finding.node == node.name && finding.check != "ssh" {
          steps.append(Step(node: node.name, step: "preflight", change: "\(finding.severity.rawValue): \(finding.message)"))
        }
        switch engines.first(where: { $0.node.name == node.name })?.plan {
        case .success(let plan)?:
          steps += plan.actions(node).map { Step(node: node.name, step: "docker", change: $0) }
        case .failure(let error)?:
          steps.append(Step(node: node.name, step: "docker", change: "error: \(error)"))
        case nil: break
        }
        if let outcome = outcomes.first(where: { $0.node == node.name }) {
          if let error = outcome.error {
            steps.append(Step(node: node.name, step: "swarm", change: "cannot read: \(error)"))
          } else {
            steps += outcome.actions.map { Step(node: node.name, step: "swarm", change: $0) }
          }
        }
      }
      if json {
        Console.out(try Console.json(steps))
      } else {
        Console.out(TextTable.render(header: ["NODE", "STEP", "CHANGE"], rows: steps.map { [$0.node, $0.step, $0.change] }))
      }
      let engineFailed = engines.contains { if case .failure = $0.plan { true } else { false } }
      if engineFailed || outcomes.contains(where: { $0.error != nil }) || findings.contains(where: { $0.severity == .error }) {
        throw Exit.failure
      }
    }
  }
}
