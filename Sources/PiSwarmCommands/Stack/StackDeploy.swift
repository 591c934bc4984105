import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

struct StackDeploy: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "deploy",
    abstract: "Deploy a compose stack and wait until every service converged.",
    discussion: """
      The compose files are validated first with 'docker stack config' (the files merged and
      interpolated): a broken file is an error naming the file and line, and nothing is deployed.
      Without -c, the files are those cluster.yml's stacks: gives the stack (relative to the
      cluster file's folder); 'portainer' is built in (see below).

      Each service gets the label io.piswarm.stack.config, the hash of the merged configuration:
      when every service of the stack carries this configuration's hash, nothing is deployed
      ("no change"). Otherwise 'docker --context CLUSTER stack deploy --prune' deploys it through
      a manager (services no longer in the files are removed), and piswarm waits until each
      service has as many tasks running as it wants (a task with a health check counts once
      healthy), or failed: a replica (or a global service's node) that failed twice, or an update
      paused or rolled back. Progress per service on stderr; exit 1 naming the services that
      failed, with their tasks' errors.

      The docker CLI: the first of PATH's docker, /usr/local/bin/docker and /usr/bin/docker that
      has 'docker stack config' (CLI 23 or later; Debian 12's docker.io 20.10 lacks it) and only
      root can change; installed with apt-get when there is none.

      portainer: Portainer's agent stack, pinned to \(Portainer.version): the agent on every node
      (global, port 9001 on the stack's overlay network), the server on one manager chosen by
      the node label \(Portainer.placementLabel)=true (kept where it is once set, so its /data
      volume does not wander; --on NODE chooses), publishing 9443 and 8000 on that node. Its
      admin password is the secret \(Portainer.secretName) in the state directory's secrets file
      (--admin-password-file FILE sets it; a random one is made when there is none), given to
      Portainer as a swarm secret.

      Examples:
        piswarm stack deploy web -c compose.yml
        piswarm stack deploy web -c compose.yml -c prod.yml --json
        piswarm stack deploy web --detach
        piswarm stack deploy portainer --admin-password-file ./portainer-password
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "The stack's name.")
  var name: String

  @Option(name: [.customShort("c"), .customLong("compose-file")], help: "A compose file (repeat to merge several).")
  var composeFiles: [String] = []

  @Flag(help: "Do not wait for the services to converge.")
  var detach = false

  @Option(help: "Seconds to wait for the services to converge.")
  var waitTimeout = 300.0

  @Option(help: "Query the registry for image digests: always, changed or never (docker's --resolve-image).")
  var resolveImage = "always"

  @Flag(help: "Deploy even when the services carry this configuration already.")
  var force = false

  @Option(help: "portainer only: a file holding Portainer's admin password (at least 12 characters).")
  var adminPasswordFile: String?

  @Option(help: "portainer only: the manager the server (and its data) goes on.")
  var on: String?

  @Flag(help: "Print the outcome as JSON on stdout.")
  var json = false

  func validate() throws {
    guard StackSpec.isValidName(name) else {
      throw ValidationError(
        "stack name \"\(TerminalText.escaped(name))\" may hold only lowercase letters, digits, '_' and '-' (at most 40, starting with a letter or digit)"
      )
    }
    guard ["always", "changed", "never"].contains(resolveImage) else {
      throw ValidationError("--resolve-image must be always, changed or never")
    }
    guard waitTimeout > 0 else { throw ValidationError("--wait-timeout must be positive") }
    let builtIn = name == Portainer.stackName && composeFiles.isEmpty
    if !builtIn, adminPasswordFile != nil || on != nil {
      throw ValidationError("--admin-password-file and --on are for the built-in portainer stack (without -c)")
    }
  }

  func run() throws {
    try reporting {
      let cli = try DockerCLI.locate(install: true) { Console.err($0) }
      let loaded = try global.loadCluster(printWarnings: false)
      let builtIn = name == Portainer.stackName && composeFiles.isEmpty
      var files = composeFiles.map(Files.absolute)
      if files.isEmpty, !builtIn {
        guard let spec = loaded.cluster.stacks.first(where: { $0.name == name }) else {
          throw PiSwarmError(
            .invalidInput, "stack \(name) is not in \(loaded.path)'s stacks: and no compose file was given",
            advice: "give its files with -c FILE, or add it to stacks: in cluster.yml")
        }
        files = spec.resolvedFiles(relativeTo: global.clusterFolder)
      }
      // Validated before anything else: a broken file deploys nothing.
      var portainer: PortainerFiles?
      if builtIn {
        portainer = try PortainerFiles.prepare(stateDirectory: global.stateDirectory, passwordFile: adminPasswordFile)
        files = [portainer?.compose ?? ""]
      }
      defer { portainer?.removePassword() }
      let config = try cli.config(files)
      let report = try global.mutating(commandLine) { journal throws(PiSwarmError) -> StackDeployer.Report in
        let session = try StackSession.open(global, remote)
        defer { try? session.closeMasters() }
        try session.writeContext()
        if builtIn { try PortainerFiles.placeServer(session, on: on) { Console.err($0) } }
        let board = ProgressBoard(nodes: config.services)
        var deployer = StackDeployer(
          cli: cli, context: session.cluster.name, client: session.client, stateDirectory: global.stateDirectory)
        deployer.resolveImage = resolveImage
        deployer.timeout = waitTimeout
        deployer.detach = detach
        deployer.progress = { board.update($0, $1) }
        let started = Date()
        do throws(PiSwarmError) {
          let report = try deployer.deploy(name, files: files, config: config, force: force)
          board.finish()
          try journal.step(
            node: "swarm", "deploy stack \(name)", report.failed.isEmpty ? .done : .failed, started: started,
            error: report.failed.isEmpty ? nil : "failed: \(report.failed.joined(separator: ", "))")
          return report
        } catch {
          board.finish()
          try? journal.step(node: "swarm", "deploy stack \(name)", .failed, started: started, error: "\(error)")
          throw error
        }
      }
      Console.out(json ? try Console.json(report) : StackTables.deploy(report))
      if !report.changed {
        Console.err("no change: the services of stack \(name) carry this configuration already")
      } else if report.detached {
        Console.err("stack \(name) deployed; not waiting (--detach): 'piswarm stack ps \(name)' shows its tasks")
      } else if report.failed.isEmpty {
        Console.err("stack \(name): \(report.services.count) service(s) converged")
      }
      if !report.failed.isEmpty {
        Console.err("stack \(name): service(s) failed: \(report.failed.joined(separator: ", "))")
        throw Exit.failure
      }
    }
  }
}
