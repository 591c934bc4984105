import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// `head.nat`: read from cluster.yml, piswarm's nft table rendered, and what `up` plans for it.
@Suite struct HeadNATTests {
  static func cluster(_ nat: String?) throws -> Cluster {
    let text = nat.map { replacing("  lan: dhcp\n", with: "  lan: dhcp\n  nat: \($0)\n") } ?? baseFile
    let decoded = decode(text)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  @Test func theUplinkIsReadAndChecked() throws {
    #expect(try Self.cluster(nil).head.nat == nil)
    #expect(try Self.cluster("eth0").head.nat == "eth0")
    for (value, message) in [
      ("eth1", "head.nat \"eth1\" is head.interface too"),
      ("\"eth*\"", "head.nat \"eth*\" is not a network interface name"),
      ("[eth0]", "head.nat"),
    ] {
      let decoded = decode(replacing("  lan: dhcp\n", with: "  lan: dhcp\n  nat: \(value)\n"))
      #expect(decoded.cluster == nil)
      #expect(decoded.diagnostics.contains { $0.message.contains(message) }, "\(decoded.diagnostics)")
    }
  }

  /// `head.nfs_reload`: an argument list whose program is an absolute path.
  @Test func theNFSReloadCommandIsAnArgumentList() throws {
    let ok = decode(replacing("  lan: dhcp\n", with: "  lan: dhcp\n  nfs_reload: [/bin/kill, -HUP, \"1234\"]\n"))
    #expect(try #require(ok.cluster, "\(ok.diagnostics)").head.nfsReload == ["/bin/kill", "-HUP", "1234"])
    #expect(try Self.cluster(nil).head.nfsReload == nil)
    for (value, message) in [
      ("systemctl restart nfs-ganesha", "head.nfs_reload must be a list"),
      ("[]", "head.nfs_reload is an empty list"),
      ("[kill, -HUP, \"1\"]", "head.nfs_reload's program \"kill\" is not an absolute path"),
      ("[/bin/kill, {a: b}]", "an argument of head.nfs_reload must be plain text"),
      ("[/bin/kill, \"a\\nb\"]", "an argument of head.nfs_reload holds a line break"),
    ] {
      let decoded = decode(replacing("  lan: dhcp\n", with: "  lan: dhcp\n  nfs_reload: \(value)\n"))
      #expect(decoded.cluster == nil, "\(value)")
      #expect(decoded.diagnostics.contains { $0.message.contains(message) }, "\(value): \(decoded.diagnostics)")
    }
  }

  /// `head.dnsmasq_restart`: read as nfs_reload is, and named in its own errors.
  @Test func theDnsmasqRestartCommandIsAnArgumentList() throws {
    let ok = decode(replacing("  lan: dhcp\n", with: "  lan: dhcp\n  dnsmasq_restart: [/usr/local/sbin/dnsmasq-again]\n"))
    #expect(try #require(ok.cluster, "\(ok.diagnostics)").head.dnsmasqRestart == ["/usr/local/sbin/dnsmasq-again"])
    #expect(try Self.cluster(nil).head.dnsmasqRestart == nil)
    let bad = decode(replacing("  lan: dhcp\n", with: "  lan: dhcp\n  dnsmasq_restart: [rc-service, dnsmasq, restart]\n"))
    #expect(bad.cluster == nil)
    #expect(
      bad.diagnostics.contains {
        $0.message.contains("head.dnsmasq_restart's program \"rc-service\" is not an absolute path")
          && $0.message.contains("dnsmasq_restart: [/usr/sbin/rc-service, dnsmasq, restart]")
      }, "\(bad.diagnostics)")
  }

  @Test func theTableIsRenderedAsNftListsIt() throws {
    let cluster = try Self.cluster("eth0")
    let table = try #require(HeadNAT.table(for: cluster.head))
    #expect(Golden.check(HeadNAT.replaceScript(table), named: "nat.nft") == nil)
    #expect(HeadNAT.table(for: try Self.cluster(nil).head) == nil)
    #expect(HeadNAT.deleteScript == "delete table ip piswarm\n")
  }

  @Test func thePlanChangesOnlyWhatDiffers() throws {
    let head = try Self.cluster("eth0").head
    let table = try #require(HeadNAT.table(for: head))
    // Nothing there: the table and forwarding.
    #expect(
      HeadNAT.plan(.init(table: nil, forwarding: false), head: head)
        == .apply(table: table, subnet: "10.42.0.0/24", uplink: "eth0", forwarding: true))
    // nft's listing, give or take trailing blanks, is what was rendered: nothing to do.
    #expect(HeadNAT.plan(.init(table: table.replacing("\n", with: " \n") + "\n\n", forwarding: true), head: head) == nil)
    // Forwarding turned off by someone: on again, the table replaced all the same.
    #expect(
      HeadNAT.plan(.init(table: table, forwarding: false), head: head)
        == .apply(table: table, subnet: "10.42.0.0/24", uplink: "eth0", forwarding: true))
    // Another uplink or a rule changed by hand: replaced.
    let other = HeadNAT.table(subnet: "10.42.0.0/24", uplink: "wlan0")
    #expect(
      HeadNAT.plan(.init(table: other, forwarding: true), head: head)
        == .apply(table: table, subnet: "10.42.0.0/24", uplink: "eth0", forwarding: false))
    // The key gone: the table removed, and only when it is there.
    let without = try Self.cluster(nil).head
    #expect(HeadNAT.plan(.init(table: table, forwarding: true), head: without) == .remove)
    #expect(HeadNAT.plan(.init(table: nil, forwarding: true), head: without) == nil)
  }

  @Test func upPlansItOnTheHeadFirst() throws {
    let cluster = try Self.cluster("eth0")
    var observed = RunObservation(nodes: [:])
    observed.nat = HeadNAT.State(table: nil, forwarding: true)
    let plan = RunPlanner.plan(observed, cluster: cluster)
    let nat = try #require(plan.actions.first { $0.step != "error" })
    #expect(nat.id == "nat on head" && nat.place == "head" && nat.step == "nat")
    #expect(nat.change == "masquerade 10.42.0.0/24 out of eth0 (nft table ip piswarm)")
    // Removed when the key goes.
    let gone = RunPlanner.plan(
      {
        var o = observed; o.nat = HeadNAT.State(table: HeadNAT.table(for: cluster.head), forwarding: true); return o
      }(),
      cluster: try Self.cluster(nil))
    #expect(gone.actions.contains { $0.id == "nat on head" && $0.change.contains("remove nft table ip piswarm") })
    // Without nft: refused when wanted, nothing when not.
    observed.nat = nil
    observed.natError = "nft: not found"
    let refused = RunPlanner.plan(observed, cluster: cluster)
    #expect(refused.actions.contains { $0.id == "refuse head" && $0.change.contains("head.nat is set") })
    #expect(!RunPlanner.plan(observed, cluster: try Self.cluster(nil)).actions.contains { $0.place == "head" })
  }
}
