import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

struct Up: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Form the swarm cluster.yml describes from the nodes' running dockerds, and keep it so.",
    discussion: """
      Reaches each node's Docker Engine API over SSH (docker system dial-stdio through the node's
      ControlMaster; no TCP port), then: swarm init on the first manager with its address from
      cluster.yml; the other managers join one at a time, workers in parallel; roles and labels
      applied; join tokens rotated after any join (they are never printed or logged). Nodes
      already in this swarm are left alone; a node in another swarm is an error with advice.
      Running it again changes nothing. Exit 1 when a node failed; the others still converge.

      Preflight runs first on every node (see 'piswarm preflight'); an error there stops the run
      before anything changes. Not yet part of this run (see the issue list): installing Docker,
      daemon.json and diskless storage. Nodes need a running dockerd.

      Examples:
        piswarm up
        piswarm --file lab/cluster.yml up --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Flag(help: "Print the outcome per node as JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let cluster = try global.loadCluster(printWarnings: true).cluster
      guard !cluster.nodes.isEmpty else {
        throw PiSwarmError(.invalidInput, "the cluster file has no nodes", advice: "add some with 'piswarm node add'")
      }
      let transport = remote.transport(cluster, global: global)
      try transport.prepare()
      Interrupts.install { transport.closeMasters(cluster.nodes) }
      // Preflight on every node, every problem in one table, before anything changes. A node
      // that cannot be reached does not stop the others: it fails in the run below.
      let findings = transport.reportingNewKeys(cluster.nodes) { transport.preflight(cluster.nodes, parallel: remote.parallel) }
      try Interrupts.finish(transport, cluster.nodes)
      let blocking = findings.filter { $0.severity == .error && $0.check != "ssh" }
      let shown = findings.filter { $0.check != "ssh" }
      if !shown.isEmpty { Console.err(PreflightTable.render(shown)) }
      if !blocking.isEmpty {
        Console.err("preflight found \(blocking.count) error(s); nothing was changed")
        throw Exit.failure
      }
      let outcomes = try global.mutating(commandLine) { journal throws(PiSwarmError) -> [SwarmConvergence.Outcome] in
        let started = Date()
        let convergence = SwarmConvergence(
          cluster: cluster, parallel: remote.parallel,
          client: { node in DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node))) },
          progress: { Console.err($0) })
        let outcomes = convergence.run()
        for outcome in outcomes {
          try journal.step(
            node: outcome.node, "swarm", status: outcome.failed ? "failed" : outcome.actions.joined(separator: ","),
            started: started, error: outcome.error)
        }
        return outcomes
      }
      try Interrupts.finish(transport, cluster.nodes)
      if json {
        Console.out(try Console.json(outcomes))
      } else {
        let rows = outcomes.map { [$0.node, $0.role, $0.failed ? "FAILED" : $0.actions.joined(separator: ", ")] }
        Console.out(TextTable.render(header: ["NODE", "ROLE", "CHANGES"], rows: rows))
      }
      let failed = outcomes.filter(\.failed)
      let changed = outcomes.filter { $0.actions != ["unchanged"] && !$0.failed }
      Console.err(
        failed.isEmpty
          ? (changed.isEmpty
            ? "no changes: the swarm is as cluster.yml says"
            : "\(changed.count) node(s) changed; the swarm is as cluster.yml says")
          : "\(failed.count) of \(outcomes.count) node(s) failed:\n"
            + failed.map { "  \($0.node): \($0.error ?? "")" }.joined(separator: "\n"))
      if !failed.isEmpty { throw Exit.failure }
    }
  }
}
