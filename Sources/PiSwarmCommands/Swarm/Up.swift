import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmNetboot
import PiSwarmPower
import PiSwarmRegistry
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem
import Synchronization

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

      up takes the state lock, reads every node, and runs exactly the actions 'piswarm plan'
      prints for that state, in that order, journaling each by its identity; an action of a node
      whose earlier action did not succeed is skipped and reported.

      Netboot first, for a cluster with netboot nodes: what 'piswarm netboot apply' does, as
      actions of the plan, before any node is switched on. Each netboot node's root under
      head.nfs_root is made from defaults.image (or converged: its identity, netboot OS changes
      and daemon.json written again where they differ); then the netboot files on the head
      (dnsmasq's configuration, the TFTP folders, the NFS exports, the hook script) are written
      where they changed; then dnsmasq is restarted and the NFS exports reloaded (exportfs -ra,
      or nfs-ganesha restarted), each only when its files changed and systemd runs here (without
      systemd, start or restart them yourself). 'piswarm netboot apply' stays for the files
      alone (--files-only). --only netboot runs just this step.

      From cold: a node that cannot be reached and has a power driver (see 'piswarm power' and
      docs/power.md) is switched on first, then waited for phase by phase (netboot nodes: DHCP,
      TFTP, NFS root, SSH, from the boot events; others: SSH) with power.boot_timeouts; a node
      stuck in a phase is power-cycled (power.retries, default once) and otherwise reported with
      the phase it stuck in. Once they are up, every node is read again and the rest (Docker,
      the swarm) is planned from that. A node that cannot be reached with power: none is left
      alone, with why.

      Preflight runs first on every node (see 'piswarm preflight'); an error there stops the run
      before anything changes. Then Docker on each node: docker.io installed with apt-get when
      missing; /etc/docker/daemon.json (engine labels, log rotation, registry mirrors, data root)
      written only when it changes; the storage of docker_storage set up (loopfile, device,
      tmpfs) and mounted at boot through /etc/fstab. dockerd restarts only when needed: workers in
      parallel, managers one at a time, each back in the swarm before the next.

      With the head's registry on (registry: in cluster.yml, or a stacks: section, or head in
      docker.registry_mirrors), the head runs a pull-through cache of Docker Hub and a private
      registry over TLS from a cluster CA first; every node then trusts the CA
      (/etc/docker/certs.d/HEAD:PORT/ca.crt) and names the cache in registry-mirrors, which
      Docker uses for Docker Hub images only. See 'piswarm registry --help'.

      With head.nat: UPLINK, the head masquerades the cluster subnet out of UPLINK (its nftables
      table ip piswarm, replaced whole when it differs, deleted when the key goes) and turns IPv4
      forwarding on: the step 'nat on head', first of all. See docs/day-two.md.

      At the end, a docker context named after the cluster points at a healthy manager, so your
      own docker CLI reaches the swarm: docker --context NAME node ls (through the SSH alias
      piswarm-NAME in /etc/ssh/ssh_config.d, with piswarm's key and pinned host keys).

      Last, the stacks of stacks: (name → compose files, relative to cluster.yml) are deployed
      through the docker context, each only when its services do not carry its configuration's
      hash already, and up waits until they converged (see 'piswarm stack deploy'). The docker
      CLI is installed on this machine when there is none.

      A device: partition is formatted only with --format, and only when it holds no ext4
      filesystem. Storage changes only from root to another mode (or a loopfile or tmpfs to a
      larger size): anything else would lose the node's images and swarm identity.

      --only STEPS runs a narrower part of the same plan (netboot, power, registry, docker,
      swarm, stack), e.g. --only docker,swarm for Docker and the swarm without powering nodes on or
      deploying stacks; 'piswarm plan --only STEPS' prints it. Preflight checks nodes for Docker
      and the swarm: a run of only power (or the registry) does not stop on its findings.

      Examples:
        piswarm up
        piswarm up --only docker,swarm
        piswarm up --only netboot      # node roots and netboot files only
        piswarm up --format            # allow formatting device: partitions
        piswarm --file lab/cluster.yml up --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions
  @OptionGroup var steps: RunStepOptions
  @OptionGroup var netbootOptions: NetbootStepOptions

  @Flag(help: "Print the outcome per node as JSON on stdout.")
  var json = false

  @Flag(help: "Format device: partitions that hold no ext4 filesystem (this erases them).")
  var format = false

  @Option(help: "stacks: query the registry for image digests: always, changed or never (docker's --resolve-image).")
  var resolveImage = "always"

  @Option(help: "stacks: seconds to wait for a stack's services to converge.")
  var stackTimeout = 300.0

  func validate() throws {
    guard ["always", "changed", "never"].contains(resolveImage) else {
      throw ValidationError("--resolve-image must be always, changed or never")
    }
    guard stackTimeout > 0 else { throw ValidationError("--stack-timeout must be positive") }
  }

  /// How a run ended, for the output after the lock is released.
  enum Ending {
    case blocked
    case interrupted
    case ran([RunSession.Row])
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
      // The lock first: what is observed is what is applied (no other run changes it between).
      let ending = try global.mutating(commandLine) { journal throws(PiSwarmError) -> Ending in
        let memory = StoredSwarmMemory(store: journal.store)
        var rows: [RunSession.Row] = []
        let cli = cluster.stacks.isEmpty ? nil : RunSession.stackCLI(cluster, install: true)
        let stacks = cli.map { (global.clusterFolder, $0) }
        // Nodes that are off are powered on first, and every manager locked can be read only
        // once unlocked: each time, the next round plans the rest from a new observation.
        var bootFailed: [String: String] = [:]
        var booted = false
        let netboot = NetbootStep(cluster, global: global, dnsmasqExtra: netbootOptions.dnsmasqOptions)
        let store = journal.store
        // Rounds: power on what is off; unlock locked managers; start engines that wait for
        // their Docker setup; then the rest.
        for round in 1...4 {
          var observation = RunSession.observe(
            cluster, transport: transport, parallel: remote.parallel, memory: memory, stateDirectory: global.stateDirectory,
            stacks: stacks, netboot: (netboot, store, { if round == 1 { Console.err($0) } })
          ) {
            Console.err($0)
          }
          observation.bootFailed = bootFailed
          if Cancellation.isCancelled { return .interrupted }
          let plan = steps.apply(RunPlanner.plan(observation, cluster: cluster))
          // Preflight: every problem in one table, before anything changes (again for nodes
          // that were just booted).
          if round == 1 || booted, !plan.findings.isEmpty { Console.err(PreflightTable.render(plan.findings)) }
          if plan.blocked { return .blocked }
          let board = ProgressBoard(nodes: cluster.nodes.map(\.name))
          var executor = executor(cluster, transport: transport, memory: memory, board: board)
          executor.netbootRoot = { node, _ in netboot.makeRoot(node, store: store) }
          executor.netbootFiles = {
            let (error, notes, warnings) = netboot.writeFiles(store: store)
            for warning in warnings { board.line("head: warning: \(warning)") }
            return (error, notes)
          }
          executor.netbootRestart = { netboot.restart($0) }
          if case .success(let cli) = cli {
            executor.deployStack = stackDeploy(cluster, cli: cli, transport: transport, board: board)
          }
          let report = executor.execute(plan)
          board.finish()
          for result in report.results {
            try journal.step(
              node: result.action.place, result.action.id, StepStatus(result.status), started: result.started,
              error: result.error)
          }
          for (node, error) in report.notReady.sorted(by: { $0.key < $1.key }) {
            try journal.step(node: node, "ready", .failed, started: Date(), error: error)
          }
          rows += RunSession.rows(report, cluster: cluster)
          if plan.bootsFirst {
            for result in report.results where result.status != .done && result.action.step == "power" {
              if let node = result.action.node, bootFailed[node] == nil { bootFailed[node] = result.error ?? "failed" }
            }
            booted = true
            if Cancellation.isCancelled { break }
            continue
          }
          booted = false
          if !plan.unlocksFirst && !plan.startsEnginesFirst || report.results.contains(where: { $0.status != .done }) { break }
        }
        return .ran(rows)
      }
      try Interrupts.finish(transport, cluster.nodes)
      guard case .ran(let rows) = ending else {
        Console.err("preflight found errors; nothing was changed")
        throw Exit.failure
      }
      Console.out(json ? try Console.json(rows) : RunSession.table(rows, withStatus: true))
      let failed = rows.filter { $0.status != .done }
      // The user's own docker CLI: a context named after the cluster, through a healthy manager.
      // A convenience: when it cannot be written, the run still stands, with a warning.
      if let manager = cluster.managers.first(where: { node in !failed.contains { $0.node == node.name } }) {
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
      let nodes = Set(rows.map(\.node))
      Console.err(
        failed.isEmpty
          ? (rows.isEmpty
            ? "no changes: Docker, the swarm and the stacks are as cluster.yml says"
            : "\(rows.count) action(s) on \(nodes.count) node(s) done; Docker, the swarm and the stacks are as cluster.yml says")
          : "\(failed.count) of \(rows.count) action(s) did not succeed:\n"
            + failed.map { "  \($0.node): \($0.error ?? "") (\($0.action ?? $0.change): \(($0.status ?? .failed).rawValue))" }
            .joined(separator: "\n"))
      if !failed.isEmpty { throw Exit.failure }
    }
  }

  /// Deploys a stack of `stacks:` by name through a manager that answers, and waits for it.
  func stackDeploy(
    _ cluster: Cluster, cli: DockerCLI, transport: SSHTransport, board: ProgressBoard
  ) -> @Sendable (String) -> (error: String?, notes: [String]) {
    let folder = global.clusterFolder
    let stateDirectory = global.stateDirectory
    let resolveImage = resolveImage
    let timeout = stackTimeout
    return { name in
      guard let spec = cluster.stacks.first(where: { $0.name == name }) else { return ("not in cluster.yml", []) }
      do {
        let (manager, client) = try StackSession.manager(cluster, transport: transport)
        try DockerContextFiles.write(cluster: cluster, manager: manager, transport: transport)
        let files = spec.resolvedFiles(relativeTo: folder)
        let config = try cli.config(files)
        var deployer = StackDeployer(cli: cli, context: cluster.name, client: client, stateDirectory: stateDirectory)
        deployer.resolveImage = resolveImage
        deployer.timeout = timeout
        deployer.progress = { service, text in board.note("stack \(name): \(service): \(text)") }
        let report = try deployer.deploy(name, files: files, config: config)
        let failed = report.services.filter { $0.state == "failed" }
        guard failed.isEmpty else {
          return ("service(s) failed: " + failed.map { "\($0.service) (\($0.error ?? ""))" }.joined(separator: "; "), [])
        }
        return (nil, ["\(report.services.count) service(s) converged"])
      } catch {
        return ("\(error)", [])
      }
    }
  }

  /// The executor of this run: Docker's setup through SSH (a manager that comes back locked
  /// under autolock is unlocked at once), the swarm through each node's Engine API.
  func executor(_ cluster: Cluster, transport: SSHTransport, memory: StoredSwarmMemory, board: ProgressBoard) -> RunExecutor {
    var provisioning = EngineProvisioning(
      cluster: cluster, transport: transport, format: format, progress: { board.update($0, $1) })
    if (try? memory.unlockKey()) != nil {
      provisioning.unlock = { node in
        guard let key = try? memory.unlockKey() else { return false }
        var client = RunSession.dockerClient(transport, node)
        guard (try? client.negotiate()) != nil, (try? client.info())?.Swarm.LocalNodeState == .locked else { return false }
        return (try? client.unlock(key: key)) != nil
      }
    }
    let registry = HeadRegistry(cluster: cluster, stateDirectory: global.stateDirectory)
    provisioning.registryCA = { Files.readWhole(registry.paths.caCertificate) }
    let docker = provisioning
    var executor = RunExecutor(
      cluster: cluster, parallel: remote.parallel, client: { RunSession.dockerClient(transport, $0) },
      applyDocker: { docker.apply($0, $1) })
    executor.applyRegistry = { plan in
      do {
        try registry.apply(plan) { board.line("head: \($0)") }
        return nil
      } catch {
        return "\(error)"
      }
    }
    executor.applyNAT = { plan in
      do {
        try HeadNATControl().apply(plan)
        board.line("head: \(plan.change)")
        return nil
      } catch {
        return "\(error)"
      }
    }
    executor.memory = memory
    executor.progress = { board.line($0) }
    // Nodes that are off: switched on by their drivers, then waited for phase by phase.
    let power = PowerWiring.context(cluster, stateDirectory: global.stateDirectory, transport: transport)
    let waiter = PowerWiring.waiter(
      cluster, stateDirectory: global.stateDirectory, context: power, progress: { board.update($0.name, $1) })
    let switchedOn = Mutex<[String: Date]>([:])
    executor.powerOn = { node in
      board.update(node.name, "switching on (\(node.power.driver))")
      switchedOn.withLock { $0[node.name] = Date() }
      if case .failure(let error) = PowerDrivers.run(.on, node: node, context: power) { return error.description }
      return nil
    }
    executor.waitBoot = { node in waiter.wait(node, poweredOn: switchedOn.withLock { $0[node.name] } ?? Date()) }
    return executor
  }
}

extension StepStatus {
  /// How one of `up`'s actions went, as the journal records it.
  init(_ status: RunExecutor.Result.Status) {
    switch status {
    case .done: self = .done
    case .failed: self = .failed
    case .skipped: self = .skipped
    case .refused: self = .refused
    }
  }
}
