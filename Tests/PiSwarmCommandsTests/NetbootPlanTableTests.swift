import Foundation
import PiSwarmCore
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCommands

/// `plan`'s table for a cluster with netboot nodes: the netboot step first (roots, files on the
/// head, restarts), then power on and wait boot; nothing of it for a cluster without.
@Suite struct NetbootPlanTableTests {
  static func cluster(boot: String) throws -> Cluster {
    let decoded = ClusterFile.decode(
      text: """
        name: t
        head: {interface: eth0, address: 10.0.0.1/24}
        defaults: {boot: \(boot), image: raspios, docker_storage: 'loopfile:8G', power: {driver: lab, lab: t}}
        swarm: {managers: [node01]}
        nodes:
          - {name: node01, ip: 10.0.0.11, mac: 'b8:27:eb:00:00:01'}
          - {name: node02, ip: 10.0.0.12, mac: 'b8:27:eb:00:00:02'}
        """)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  static func observation(_ cluster: Cluster) -> RunObservation {
    var observed = RunObservation(
      nodes: Dictionary(uniqueKeysWithValues: cluster.nodes.map { ($0.name, NodeObservation(unreachable: "connection refused")) })
    )
    let tftp = cluster.head.tftpRoot
    if cluster.nodes.contains(where: { $0.boot == .netboot }) {
      observed.netboot = NetbootObservation(
        changes: [
          tftp, tftp + "/b8-27-eb-00-00-01", tftp + "/b8-27-eb-00-00-01/cmdline.txt", tftp + "/b8-27-eb-00-00-01/config.txt",
          cluster.head.dnsmasqConf,
        ],
        restarts: [.exports, .dnsmasq],
        roots: [
          "node01": .missing(image: "raspios"), "node02": .stale(image: "raspios", paths: ["/etc/hostname", "/etc/hosts"]),
        ])
    }
    return observed
  }

  @Test func planListsTheNetbootStepFirst() throws {
    let cluster = try Self.cluster(boot: "netboot")
    let plan = RunPlanner.plan(Self.observation(cluster), cluster: cluster)
    let table = RunSession.table(RunSession.rows(plan, cluster: cluster), withStatus: false)
    if let problem = Golden.check(table, named: "plan-netboot.txt") { Issue.record("\(problem)") }
    let only = RunSession.table(RunSession.rows(plan.only(["netboot"]), cluster: cluster), withStatus: false)
    if let problem = Golden.check(only, named: "plan-only-netboot.txt") { Issue.record("\(problem)") }
  }

  /// With head.nfs_reload the exports' restart is the cluster file's command, planned as such.
  @Test func planShowsTheNFSReloadCommand() throws {
    let decoded = ClusterFile.decode(
      text: """
        name: t
        head: {interface: eth0, address: 10.0.0.1/24, nfs_reload: [/usr/sbin/rc-service, nfs-ganesha, restart]}
        defaults: {boot: netboot, image: raspios, power: {driver: lab, lab: t}}
        nodes:
          - {name: node01, ip: 10.0.0.11, mac: 'b8:27:eb:00:00:01'}
        """)
    let cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    var observed = RunObservation(nodes: ["node01": NodeObservation(unreachable: "connection refused")])
    observed.netboot = NetbootObservation(
      changes: [cluster.head.tftpRoot + "/b8-27-eb-00-00-01/cmdline.txt"], restarts: [.nfsReload], roots: ["node01": .current])
    let plan = RunPlanner.plan(observed, cluster: cluster)
    let table = RunSession.table(RunSession.rows(plan.only(["netboot"]), cluster: cluster), withStatus: false)
    if let problem = Golden.check(table, named: "plan-netboot-nfs-reload.txt") { Issue.record("\(problem)") }
  }

  @Test func aClusterWithoutNetbootNodesHasNoNetbootRow() throws {
    let cluster = try Self.cluster(boot: "preinstalled")
    let plan = RunPlanner.plan(Self.observation(cluster), cluster: cluster)
    #expect(!RunSession.rows(plan, cluster: cluster).contains { $0.step == "netboot" })
    #expect(plan.actions.map(\.id) == ["power on node01", "power on node02", "wait boot node01", "wait boot node02"])
  }
}
