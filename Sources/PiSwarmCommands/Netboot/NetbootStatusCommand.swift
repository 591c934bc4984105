import ArgumentParser
import Dispatch
import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem
import Synchronization

struct NetbootStatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "How far each netboot node got in its last boot.",
    discussion: """
      Phases: seen (a DHCP/PXE request) → firmware (start*.elf or bootcode.bin sent over TFTP) →
      kernel (the kernel sent) → nfs-root → ssh (port 22 answers now). The NFS server is not
      watched: nfs-root shows "inferred" when SSH answers, else "unknown".
      Events come from dnsmasq's hook (its spool, STATE/netboot/hook-events.*) and from its log.

      Examples:
        piswarm netboot status
        piswarm netboot status --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let loaded = try global.loadCluster(printWarnings: false)
      let events = try BootEventsReader.all(stateDirectory: global.stateDirectory)
      let nodes = NFSExports.netbootNodes(loaded.cluster)
      // Every node at once (bounded like every fan-out), 1 s each at most.
      let banners = FanOut.run(nodes, parallel: 64, skipped: { _ in false }) { node in
        Probes.tcpBanner(host: node.ip, port: 22, timeout: 1)?.hasPrefix("SSH-") == true
      }
      let answering = Set(zip(nodes, banners).filter(\.1).map(\.0.name))
      let progress = BootProgress.progress(loaded.cluster, events: events) { answering.contains($0.name) }
      if json {
        Console.out(try Console.json(progress))
        return
      }
      let formatter = ISO8601DateFormatter()
      Console.out(
        TextTable.render(
          header: ["NODE", "MAC", "IP", "PHASE", "SINCE"],
          rows: progress.map { entry in
            [
              entry.node, entry.mac ?? "-", entry.ip, entry.phase?.rawValue ?? "never seen",
              entry.time.map { formatter.string(from: $0) } ?? "-",
            ]
          }))
    }
  }
}
