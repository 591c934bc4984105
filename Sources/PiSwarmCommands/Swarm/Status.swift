import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH
import PiSwarmSystem

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "One row per node: boot phase, SSH, Docker, storage, swarm role, state, availability, leader, running tasks.",
    discussion: """
      Reads every node at once over SSH, and the swarm's view from a reachable manager. Exit 1
      when a node cannot be reached or its dockerd does not answer.

      BOOT is how the node boots (netboot, sd, preinstalled); for netboot nodes with the
      furthest phase of its last boot: seen (its DHCP/PXE request), firmware, kernel (files
      sent over TFTP, from the boot events, as 'piswarm netboot status'), then nfs-root and
      ssh (SSH answers with the pinned key), dockerd (its API answers), swarm-ready (the swarm
      sees it ready). --json has the mode as boot, the phase as bootPhase, and bootPhaseSince
      when the last observed phase was reached while SSH does not answer yet.

      Examples:
        piswarm status
        piswarm status --json | jq '.[] | select(.state != "ready")'
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Row: Encodable, Sendable {
    var node: String
    var ip: String
    /// netboot, sd or preinstalled.
    var boot: String
    /// Netboot nodes: the furthest phase of the last boot (`BootJourney`).
    var bootPhase: String?
    var bootPhaseSince: Date?
    var ssh: String
    var docker: String?
    var storage: String?
    var backingFilesystem: String?
    var role: String?
    var state: String?
    var availability: String?
    var leader: Bool
    var tasks: Int?
    var error: String?
  }

  struct Probe: Sendable {
    var row: Row
    var client: DockerClient?
    var info: EngineInfo?
  }

  func run() throws {
    try reporting {
      let (cluster, _, transport) = try remote.session(global)
      let hostKeys = Files.absolute(global.stateDirectory) + "/hostkeys"
      let probes = FanOut.run(
        cluster.nodes, parallel: remote.parallel,
        skipped: { (node: Node) -> Probe in
          Probe(row: Row(node: node.name, ip: node.ip.description, boot: node.boot.rawValue, ssh: "cancelled", leader: false))
        },
        { (node: Node) -> Probe in
          var row = Row(node: node.name, ip: node.ip.description, boot: node.boot.rawValue, ssh: "ok", leader: false)
          let reach = transport.run(node, ["true"])
          guard reach.ok else {
            row.ssh = reach.status
            row.error = reach.message
            // An SD node whose card piswarm never burned has no pinned key: say how it gets one.
            if node.boot == .sd, !Files.exists("\(hostKeys)/\(node.name).pub") {
              row.error =
                (reach.message.map { $0 + "; " } ?? "")
                + "no card was burned for it here: 'piswarm burn \(node.name) --device /dev/sdX'"
            }
            return Probe(row: row)
          }
          var client = DockerClient(transport: SSHDialStdioTransport(ssh: transport.invocation(node)))
          do {
            try client.negotiate()
            let info = try client.info()
            row.docker = info.ServerVersion
            row.storage = info.Driver
            row.backingFilesystem = info.backingFilesystem
            return Probe(row: row, client: client, info: info)
          } catch {
            row.docker = "down"
            row.error = (error as? PiSwarmError)?.message ?? "\(error)"
            return Probe(row: row)
          }
        })
      try Interrupts.finish(transport, cluster.nodes)
      var rows = probes.map(\.row)
      // The swarm's view, from a manager that has it.
      if let manager = probes.first(where: { $0.info?.Swarm.ControlAvailable == true })?.client {
        let swarmNodes = (try? manager.nodes()) ?? []
        let tasks = (try? manager.runningTasks()) ?? []
        for index in rows.indices {
          guard
            let swarmNode = swarmNodes.filter({ $0.Status.Addr == rows[index].ip }).max(by: { a, _ in a.Status.State != .ready })
          else { continue }
          rows[index].role = swarmNode.Spec.Role.rawValue
          rows[index].state = swarmNode.Status.State.rawValue
          rows[index].availability = swarmNode.Spec.Availability.rawValue
          rows[index].leader = swarmNode.ManagerStatus?.Leader ?? false
          rows[index].tasks = tasks.filter { $0.NodeID == swarmNode.ID && $0.Status.State == .running }.count
        }
      }
      // Netboot nodes: the boot phase from the boot events and the probes above.
      let netboot = NFSExports.netbootNodes(cluster)
      if !netboot.isEmpty {
        let events = (try? BootEventsReader.all(stateDirectory: global.stateDirectory)) ?? []
        let sshUp = Set(rows.filter { $0.ssh == "ok" }.map(\.node))
        for progress in BootProgress.progress(cluster, events: events, sshUp: { sshUp.contains($0.name) }) {
          guard let index = rows.firstIndex(where: { $0.node == progress.node }) else { continue }
          let up = sshUp.contains(progress.node)
          let docker = rows[index].docker.map { $0 != "down" } ?? false
          rows[index].bootPhase = BootJourney.phase(
            observed: progress.phase, sshUp: up, dockerUp: docker, swarmState: rows[index].state)
          rows[index].bootPhaseSince = BootJourney.since(observed: progress.time, sshUp: up)
        }
      }
      // A manager that restarted under autolock: the managers see it down; say why.
      for (index, probe) in probes.enumerated() where probe.info?.Swarm.LocalNodeState == .locked {
        rows[index].state = LocalSwarm.State.locked.rawValue
        rows[index].error = "locked (swarm autolock) since its dockerd restarted: 'piswarm up' unlocks it"
      }
      if json {
        Console.out(try Console.json(rows))
      } else {
        let table = rows.map { row in
          [
            row.node, row.ip, row.bootPhase.map { "\(row.boot): \($0)" } ?? row.boot, row.ssh, row.docker ?? "-",
            row.storage.map { "\($0)/\(row.backingFilesystem ?? "?")" } ?? "-",
            row.role ?? "-", row.state ?? "-", row.availability ?? "-", row.leader ? "*" : "", row.tasks.map(String.init) ?? "-",
          ]
        }
        Console.out(
          TextTable.render(
            header: ["NODE", "IP", "BOOT", "SSH", "DOCKER", "STORAGE", "ROLE", "STATE", "AVAILABILITY", "LEADER", "TASKS"],
            rows: table))
      }
      let failed = rows.filter { $0.error != nil }
      if !failed.isEmpty {
        Console.err(failed.map { "\($0.node): \($0.error ?? "")" }.joined(separator: "\n"))
        throw Exit.failure
      }
    }
  }
}
