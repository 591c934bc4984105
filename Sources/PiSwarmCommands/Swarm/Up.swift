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
      applied; join tokens rotated whenever one was sent, even by a run that failed or was
      interrupted (the state store records that a rotation is owed before any token goes out;
      tokens are never printed or logged). A node is known by the managers' view of it (its
      address in the swarm's node list), never by its own word. Nodes already in this swarm
      are left alone; a node in another swarm is an error with advice.

      With swarm.autolock: true, the managers' raft keys are encrypted at rest: up turns
      autolock on, keeps the unlock key in the state store (0600, in the 0700 state directory;
      never printed or logged) and unlocks a manager that restarted locked before anything
      else is done with it. autolock: false turns it off again.
      Running it again changes nothing. Exit 1 when a node failed; the others still converge.

      Preflight runs first on every node (see 'piswarm preflight'); an error there stops the run
      before anything changes. Then Docker on each node: docker.io installed with apt-get when
      missing; /etc/docker/daemon.json (engine labels, log rotation, registry mirrors, data root)
      written only when it changes; the storage of docker_storage set up (loopfile, device,
      tmpfs) and mounted at boot through /etc/fstab. dockerd restarts only when needed: workers in
      parallel, managers one at a time, each back in the swarm before the next.

      At the end, a docker context named after the cluster points at a healthy manager, so your
      own docker CLI reaches the swarm: docker --context NAME node ls (through the SSH alias
      piswarm-NAME in /etc/ssh/ssh_config.d, with piswarm's key and pinned host keys).

      A device: partition is formatted only with --format, and only when it holds no ext4
      filesystem. Storage changes only from root to another mode (or a loopfile or tmpfs to a
      larger size): anything else would lose the node's images and swarm identity.

      Examples:
        piswarm up
        piswarm up --format            # allow formatting device: partitions
        piswarm --file lab/cluster.yml up --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Flag(help: "Print the outcome per node as JSON on stdout.")
  var json = false

  @Flag(help: "Format device: partitions that hold no ext4 filesystem (this erases them).")
  var format = false

  /// One node's outcome: Docker's setup and the swarm.
  struct Outcome: Encodable {
    var node: String
    var role: String
    var docker: [String]
    var swarm: [String]
    var error: String?
  }

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
      // Preflight and the read of Docker's setup share one round trip per node.
      let (findings, probed) = transport.reportingNewKeys(cluster.nodes) {
        transport.preflight(
          cluster.nodes, parallel: remote.parallel, alsoRunning: (EngineSetup.probe, EngineSetup.probeEnvironment))
      }
      try Interrupts.finish(transport, cluster.nodes)
      let blocking = findings.filter { $0.severity == .error && $0.check != "ssh" }
      let shown = findings.filter { $0.check != "ssh" }
      if !shown.isEmpty { Console.err(PreflightTable.render(shown)) }
      if !blocking.isEmpty {
        Console.err("preflight found \(blocking.count) error(s); nothing was changed")
        throw Exit.failure
      }
      let board = ProgressBoard(nodes: cluster.nodes.map(\.name))
      let outcomes = try global.mutating(commandLine) { journal throws(PiSwarmError) -> [Outcome] in
        var started = Date()
        let memory = StoredSwarmMemory(store: journal.store)
        var provisioning = EngineProvisioning(
          cluster: cluster, transport: transport, parallel: remote.parallel, format: format,
          progress: { board.update($0, $1) })
        // Under autolock a manager whose dockerd restarts comes back locked: unlocked at once.
        if (try? memory.unlockKey()) != nil {
          provisioning.unlock = { node in
            guard let key = try? memory.unlockKey() else { return false }
            var client = DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node)))
            guard (try? client.negotiate()) != nil, (try? client.info())?.Swarm.LocalNodeState == "locked" else { return false }
            return (try? client.unlock(key: key)) != nil
          }
        }
        let engines = provisioning.run(provisioning.plans(cluster.nodes, probed: probed))
        for engine in engines {
          try journal.step(
            node: engine.node, "docker",
            status: engine.failed ? "failed" : (engine.actions.isEmpty ? "unchanged" : engine.actions.joined(separator: ",")),
            started: started, error: engine.error)
        }
        // Nodes whose Docker setup failed are observed (they may hold the swarm) but not changed.
        var swarmRun = SwarmConvergence(
          cluster: cluster, parallel: remote.parallel,
          client: { node in DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node))) },
          progress: { board.line($0) })
        for engine in engines where engine.failed { swarmRun.excluded[engine.node] = engine.error }
        swarmRun.memory = memory
        started = Date()
        let swarm = swarmRun.run()
        board.finish()
        for outcome in swarm {
          try journal.step(
            node: outcome.node, "swarm", status: outcome.failed ? "failed" : outcome.actions.joined(separator: ","),
            started: started, error: outcome.error)
        }
        return cluster.nodes.map { node in
          let engine = engines.first { $0.node == node.name }
          let joined = swarm.first { $0.node == node.name }
          return Outcome(
            node: node.name, role: node.role.rawValue, docker: engine?.actions ?? [],
            swarm: joined?.actions.filter { $0 != "unchanged" } ?? [], error: engine?.error ?? joined?.error)
        }
      }
      try Interrupts.finish(transport, cluster.nodes)
      if json {
        Console.out(try Console.json(outcomes))
      } else {
        let rows = outcomes.map { outcome in
          let changes = outcome.docker + outcome.swarm
          return [
            outcome.node, outcome.role,
            outcome.error != nil ? "FAILED" : (changes.isEmpty ? "unchanged" : changes.joined(separator: ", ")),
          ]
        }
        Console.out(TextTable.render(header: ["NODE", "ROLE", "CHANGES"], rows: rows))
      }
      // The user's own docker CLI: a context named after the cluster, through a healthy manager.
      // A convenience: when it cannot be written, the run still stands, with a warning.
      if let manager = cluster.managers.first(where: { node in outcomes.contains { $0.node == node.name && $0.error == nil } }) {
        do {
          if try DockerContextFiles.write(cluster: cluster, manager: manager, transport: transport) {
            Console.err(
              "docker context \(cluster.name) reaches the swarm through \(manager.name): docker --context \(cluster.name) node ls"
            )
          }
        } catch {
          Console.err("warning: the docker context \(cluster.name) was not written: \(error)")
        }
      }
      let failed = outcomes.filter { $0.error != nil }
      let changed = outcomes.filter { !($0.docker + $0.swarm).isEmpty && $0.error == nil }
      Console.err(
        failed.isEmpty
          ? (changed.isEmpty
            ? "no changes: Docker and the swarm are as cluster.yml says"
            : "\(changed.count) node(s) changed; Docker and the swarm are as cluster.yml says")
          : "\(failed.count) of \(outcomes.count) node(s) failed:\n"
            + failed.map { "  \($0.node): \($0.error ?? "")" }.joined(separator: "\n"))
      if !failed.isEmpty { throw Exit.failure }
    }
  }
}
