import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `head.nat` for real, in three namespaces of the test's own: a node, a head (its cluster side
/// and its uplink) and a stand-in "uplink" network whose only host has no route back to the
/// cluster subnet. The node reaches that host only while piswarm's table masquerades for it.
/// Nothing here touches the machine's own network: the head is a namespace, not this machine.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct HeadNATIntegrationTests {
  static let cluster = """
    version: 1
    name: natlab
    head:
      interface: c0
      address: 10.200.7.1/24
      lan: dhcp
    ssh:
      user: root
      key: /nonexistent
    nodes:
      - name: node01
        mac: 02:00:00:00:07:02
        ip: 10.200.7.2

    """

  static func head(nat: String?) throws -> Head {
    let text = nat.map { cluster.replacingOccurrences(of: "  lan: dhcp\n", with: "  lan: dhcp\n  nat: \($0)\n") } ?? cluster
    let decoded = ClusterFile.decode(text: text)
    return try #require(decoded.cluster, "\(decoded.diagnostics)").head
  }

  /// Whether the node's ping to the uplink host is answered.
  static func reaches(_ node: String) -> Bool {
    let ping = try? Command(
      "ip", ["netns", "exec", node, "busybox", "ping", "-c", "1", "-W", "2", "10.201.7.2"], timeout: 20
    ).run()
    return ping?.status == 0
  }

  @Test func aNodeReachesTheUplinkOnlyWithNAT() throws {
    guard Prerequisites.require(),
      Command.resolve("nft") != nil
        || {
          Issue.record("nft missing: apt-get install nftables"); return false
        }()
    else {
      return
    }
    let id = "\(getpid() % 100_000)"
    let (node, head, uplink) = ("pxnat-n-\(id)", "pxnat-h-\(id)", "pxnat-u-\(id)")
    defer { for name in [node, head, uplink] { Cleanup.deleteNamespace(name) } }
    for name in [node, head, uplink] { try Command("ip", ["netns", "add", name], timeout: 20).check() }
    let setup = [
      [node, "link", "add", "eth0", "type", "veth", "peer", "name", "c0", "netns", head],
      [head, "link", "add", "up0", "type", "veth", "peer", "name", "up0", "netns", uplink],
      [node, "addr", "add", "10.200.7.2/24", "dev", "eth0"],
      [head, "addr", "add", "10.200.7.1/24", "dev", "c0"],
      [head, "addr", "add", "10.201.7.1/24", "dev", "up0"],
      [uplink, "addr", "add", "10.201.7.2/24", "dev", "up0"],
      [node, "link", "set", "lo", "up"], [node, "link", "set", "eth0", "up"],
      [head, "link", "set", "lo", "up"], [head, "link", "set", "c0", "up"], [head, "link", "set", "up0", "up"],
      [uplink, "link", "set", "lo", "up"], [uplink, "link", "set", "up0", "up"],
      // The node routes through the head; the uplink host knows nothing of the cluster subnet.
      [node, "route", "add", "default", "via", "10.200.7.1"],
    ]
    for step in setup { try Command("ip", ["-n", step[0]] + step.dropFirst(), timeout: 20).check() }
    let control = HeadNATControl(prefix: ["nsenter", "--net=/run/netns/\(head)", "--"])

    // Without nat: nothing planned, nothing reached.
    let before = try control.observe()
    #expect(before.table == nil)
    #expect(HeadNAT.plan(before, head: try Self.head(nat: nil)) == nil)
    #expect(!Self.reaches(node), "the uplink host answered without NAT")

    // nat: up0 — the table and forwarding; the node reaches the uplink host.
    let wanted = try Self.head(nat: "up0")
    let plan = try #require(HeadNAT.plan(before, head: wanted))
    #expect(
      plan == .apply(table: try #require(HeadNAT.table(for: wanted)), subnet: "10.200.7.0/24", uplink: "up0", forwarding: true))
    try control.apply(plan)
    #expect(Self.reaches(node), "the uplink host did not answer with NAT")
    // Read back, it is what was rendered: a second run changes nothing; applied again, the same.
    let after = try control.observe()
    #expect(after.forwarding)
    #expect(HeadNAT.plan(after, head: wanted) == nil, "nft lists: \(after.table ?? "nothing")")
    try control.apply(plan)
    #expect(HeadNAT.plan(try control.observe(), head: wanted) == nil)

    // The key gone: the table goes (forwarding stays on), and the uplink host is out of reach.
    let removal = try #require(HeadNAT.plan(try control.observe(), head: try Self.head(nat: nil)))
    #expect(removal == .remove)
    try control.apply(removal)
    let gone = try control.observe()
    #expect(gone.table == nil && gone.forwarding)
    #expect(!Self.reaches(node), "the uplink host answered after the NAT was removed")
  }
}
