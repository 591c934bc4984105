import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Check the head and the LAN: DHCP servers, dnsmasq, NFS, free space, clock, MTU, power, host keys.",
    discussion: """
      Each finding says what was seen and what to do. The checks:
        dhcp      a DHCPDISCOVER from head.interface: another DHCP server (lan: dhcp), none or
                  several giving addresses (lan: proxy), another server offering Pi boot
        dnsmasq   a dnsmasq running with head.dnsmasq_conf, not changed since it started
        nfs       the kernel NFS server exporting head.nfs_root, or nfs-ganesha running
        space     free space in head.nfs_root and the state directory
        clock     the head's clock synchronized (timedatectl)
        mtu       the nodes' MTU (their last facts) against head.interface's
        power     nodes throttled or under-voltage (their last facts: run 'piswarm facts')
        host-key  nodes whose pinned host key no longer answers (one SSH login each)
      Exit 1 when a finding is an error.

      Examples:
        piswarm doctor
        piswarm doctor --head-only --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Flag(help: "Check the head and the LAN only: no SSH login to the nodes.")
  var headOnly = false

  @Option(help: "Seconds to wait for DHCP offers (twice).")
  var dhcpWait = 2.0

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func validate() throws {
    guard dhcpWait > 0 && dhcpWait <= 30 else { throw ValidationError("--dhcp-wait must be more than 0 and at most 30 seconds") }
  }

  func run() throws {
    var findings: [Doctor.Finding] = []
    try reporting {
      let cluster = try global.loadCluster().cluster
      let head = cluster.head
      if head.lan == .none {
        findings.append(Doctor.Finding("dhcp", "lan", .ok, "lan: none: piswarm serves no DHCP; not probed"))
      } else {
        do {
          findings += Doctor.dhcp(try HeadDoctor.dhcpOffers(interface: head.interface, seconds: dhcpWait), head: head)
        } catch {
          findings.append(
            Doctor.Finding(
              "dhcp", "lan", .warning, "cannot send a DHCPDISCOVER on \(head.interface): \(error)",
              advice: "run doctor as root on the head, with head.interface up"))
        }
        findings.append(HeadDoctor.dnsmasq(head))
      }
      findings.append(HeadDoctor.nfs(cluster))
      findings.append(HeadDoctor.space("nfs_root", path: head.nfsRoot))
      findings.append(HeadDoctor.space("the state directory", path: global.stateDirectory))
      findings.append(Doctor.clock(HeadDoctor.timedatectl()))
      // The nodes' last facts: MTU and power.
      let store = try? SQLiteStateStore(stateDirectory: global.stateDirectory)
      var mtus: [String: Int] = [:]
      var throttled: [String: String] = [:]
      for node in cluster.nodes {
        let facts = (try? store?.facts(node: node.name)) ?? []
        if let mtu = facts.first(where: { $0.name == "mtu" }).flatMap({ Int($0.value) }) { mtus[node.name] = mtu }
        if let value = facts.first(where: { $0.name == "throttled" })?.value { throttled[node.name] = value }
      }
      findings += Doctor.mtu(head: HeadDoctor.mtu(head.interface), interface: head.interface, nodes: mtus)
      findings += Doctor.power(throttled)
      if !headOnly { findings += hostKeys(cluster) }
      if json {
        Console.out(try Console.json(Doctor.sorted(findings)))
      } else {
        Console.out(Doctor.table(findings))
      }
    }
    if findings.contains(where: { $0.severity == .error }) { throw Exit.failure }
  }

  /// One login per node with its pinned key: a changed key is an error, no answer a warning.
  func hostKeys(_ cluster: Cluster) -> [Doctor.Finding] {
    let transport = remote.transport(cluster, global: global)
    do { try transport.prepare() } catch {
      return [Doctor.Finding("host-key", "head", .warning, "cannot reach the nodes over SSH: \(error.message)")]
    }
    let results = transport.run(on: cluster.nodes, ["true"], parallel: remote.parallel)
    transport.closeMasters(cluster.nodes)
    var findings: [Doctor.Finding] = []
    for result in results {
      switch result.outcome {
      case .ok: break
      case .hostKeyChanged:
        findings.append(
          Doctor.Finding(
            "host-key", result.node, .error, "\(result.node) answers with another host key than the one pinned",
            advice: result.message
              ?? "if the node was reinstalled, re-provision its root ('piswarm root make'); else treat it as an impostor"))
      default:
        findings.append(
          Doctor.Finding(
            "host-key", result.node, .warning, "\(result.node) did not answer over SSH: \(result.message ?? result.status)",
            advice: "check that it is powered and booted ('piswarm power status', 'piswarm netboot status')"))
      }
    }
    if findings.isEmpty {
      findings.append(Doctor.Finding("host-key", "nodes", .ok, "all \(results.count) node(s) answer with their pinned host keys"))
    }
    return findings
  }
}
