import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// The netboot renderers: dnsmasq, the hook script, boot files, NFS exports and the TFTP tree.
@Suite struct NetbootRenderingTests {
  static func cluster(lan: String, range: String? = nil) throws -> Cluster {
    let text = """
      name: rack1
      head:
        interface: eth1
        address: 10.42.0.250/24
        lan: \(lan)
      \(range.map { "  dhcp_range: \($0)\n" } ?? "")  tftp_root: /srv/piswarm/tftp
        nfs_root: /srv/piswarm/nfs
      defaults:
        image: raspios
      nodes:
        - name: node01
          mac: b8:27:eb:d3:85:78
          ip: 10.42.0.1
          serial: 1a2b3c4d
          model: pi4
        - name: node02
          mac: DC-A6-32-00-00-02
          ip: 10.42.0.2
          model: pi3b+
        - name: node03
          ip: 10.42.0.3
          serial: 100000009abcdef0
          model: pi5
        - name: nas
          ip: 10.42.0.20
          boot: preinstalled
          docker_storage: root
      """
    let decoded = ClusterFile.decode(text: text)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  static let options = DnsmasqConfig.Options(
    hookScript: "/var/lib/piswarm/netboot/dnsmasq-hook", logFile: "/var/lib/piswarm/netboot/dnsmasq.log",
    leaseFile: "/var/lib/piswarm/netboot/dnsmasq.leases")

  func golden(_ text: String, _ name: String) {
    if let problem = Golden.check(text, named: name) { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func dnsmasqProxyMatchesGolden() throws {
    let text = try DnsmasqConfig.render(try Self.cluster(lan: "proxy"), Self.options)
    golden(text, "dnsmasq-proxy.conf")
    #expect(text.contains("pxe-service=tag:!ipxe,0,\"Raspberry Pi Boot   \"\n"))
    #expect(text.contains("dhcp-range=10.42.0.0,proxy,255.255.255.0\n"))
    #expect(!text.contains("dhcp-host"))
    #expect(!text.contains("no-ping"))
  }

  @Test func dnsmasqDHCPMatchesGolden() throws {
    let text = try DnsmasqConfig.render(try Self.cluster(lan: "dhcp", range: "10.42.0.100-10.42.0.149"), Self.options)
    golden(text, "dnsmasq-dhcp.conf")
    #expect(text.contains("dhcp-range=10.42.0.100,10.42.0.149,255.255.255.0,12h\n"))
    #expect(text.contains("dhcp-host=b8:27:eb:d3:85:78,10.42.0.1,node01,infinite\n"))
    #expect(text.contains("dhcp-authoritative\n"))
  }

  @Test func dnsmasqDHCPWithoutRangeServesOnlyKnownNodes() throws {
    var options = Self.options
    options.extra = ["no-ping"]
    let text = try DnsmasqConfig.render(try Self.cluster(lan: "dhcp"), options)
    #expect(text.contains("dhcp-range=10.42.0.0,static,255.255.255.0\n"))
    #expect(text.hasSuffix("no-ping\n"))
  }

  @Test func dnsmasqNoneHasNoDHCP() throws {
    let text = try DnsmasqConfig.render(try Self.cluster(lan: "none"), Self.options)
    #expect(!text.contains("dhcp-range"))
    #expect(text.contains("enable-tftp\n"))
  }

  @Test(arguments: ["/tmp/a\nb", "/tmp/a\rb", "x\0y"])
  func lineBreaksNeverReachTheFile(_ value: String) throws {
    var options = Self.options
    options.logFile = value
    #expect(throws: PiSwarmError.self) { try DnsmasqConfig.render(try Self.cluster(lan: "proxy"), options) }
    options = Self.options
    options.extra = [value]
    #expect(throws: PiSwarmError.self) { try DnsmasqConfig.render(try Self.cluster(lan: "proxy"), options) }
    #expect(throws: PiSwarmError.self) { try HookScript.render(spool: value, log: "/var/lib/piswarm/l", logLimit: 1) }
    #expect(throws: PiSwarmError.self) { try HookScript.render(spool: "/var/lib/piswarm/s", log: value, logLimit: 1) }
  }

  @Test func bootFilesMatchGolden() throws {
    let cluster = try Self.cluster(lan: "proxy")
    var text = ""
    for node in cluster.nodes where node.boot == .netboot {
      text += "== \(node.name)/cmdline.txt\n" + (try BootFiles.cmdline(node, in: cluster))
      text += "== \(node.name)/config.txt\n" + BootFiles.config(node)
    }
    golden(text, "boot-files.txt")
    let cmdline = try BootFiles.cmdline(cluster.nodes[0], in: cluster)
    #expect(
      cmdline
        == "console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=10.42.0.250:/srv/piswarm/nfs/node01,nfsvers=3,tcp rw ip=dhcp cgroup_enable=memory cgroup_memory=1\n"
    )
  }

  @Test func exportsMatchGolden() throws {
    let cluster = try Self.cluster(lan: "proxy")
    let exports = try NFSExports.exports(cluster)
    golden(exports, "exports")
    #expect(exports.contains("/srv/piswarm/nfs/node02 10.42.0.2(rw,sync,no_subtree_check,no_root_squash)\n"))
    #expect(!exports.contains("nas"))
    #expect(!exports.contains("*"))
    golden(try NFSExports.ganesha(cluster, recoveryRoot: "/var/lib/piswarm/netboot/ganesha-recovery"), "ganesha.conf")
  }

  @Test func exportIDsFollowAddressesNotOrder() throws {
    let cluster = try Self.cluster(lan: "proxy")
    var shuffled = cluster
    shuffled.nodes.reverse()
    shuffled.nodes.removeLast()  // node01 gone
    #expect(try NFSExports.exportIDs(cluster) == ["node01": 1, "node02": 2, "node03": 3])
    #expect(try NFSExports.exportIDs(shuffled) == ["node02": 2, "node03": 3])
  }

  @Test func bootTreeMatchesGolden() throws {
    let cluster = try Self.cluster(lan: "proxy")
    let firmware = BootTree.Firmware(
      directory: "/var/lib/piswarm/images/raspios/boot",
      names: [
        "start4.elf", "fixup4.dat", "bootcode.bin", "kernel8.img", "bcm2711-rpi-4-b.dtb", "overlays", "cmdline.txt", ".hidden",
      ])
    let tree = try BootTree.plan(cluster) { _ in firmware }
    golden(tree.listing, "boot-tree.txt")
    #expect(tree.folders.map(\.name) == ["b8-27-eb-d3-85-78", "1a2b3c4d", "dc-a6-32-00-00-02", "9abcdef0"])
    // The node's own files are real files, never links to the image's.
    #expect(
      !tree.entries.contains(
        .link("/srv/piswarm/tftp/b8-27-eb-d3-85-78/cmdline.txt", target: "/var/lib/piswarm/images/raspios/boot/cmdline.txt")))
    // Nothing is planned in the root itself.
    for entry in tree.entries {
      let relative = entry.path.dropFirst("/srv/piswarm/tftp/".count)
      #expect(entry.path.hasPrefix("/srv/piswarm/tftp/") && (relative.contains("/") || entry == .directory(entry.path)))
    }
  }

  @Test func bootTreeSkipsNodesWithoutMACOrSerial() throws {
    var cluster = try Self.cluster(lan: "proxy")
    cluster.nodes[2].serial = nil
    let tree = try BootTree.plan(cluster) { _ in nil }
    #expect(tree.skipped.map(\.node) == ["node03"])
    #expect(tree.entries.allSatisfy { if case .link = $0 { false } else { true } })
  }

  @Test(arguments: [
    (BoardModel?.some(.pi5), ["bcm2712-rpi-5-b.dtb", "kernel_2712.img", "initramfs_2712"], [String]()),
    (.pi5, ["bcm2712-rpi-5-b.dtb", "kernel8.img"], []),
    (.pi5, ["start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "kernel8.img"], ["bcm2712*.dtb"]),
    (.cm5, ["start4.elf"], ["bcm2712*.dtb", "kernel_2712.img"]),
    (.pi4, ["start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "kernel8.img"], []),
    (.pi4, ["bcm2712-rpi-5-b.dtb", "kernel_2712.img"], ["start4.elf", "fixup4.dat", "bcm2711*.dtb", "kernel8.img"]),
    (.pi3bplus, ["bootcode.bin", "start.elf", "fixup.dat"], ["kernel8.img"]),
    (nil, [], []), (.other, [], []),
  ])
  func firmwareABoardNeeds(_ model: BoardModel?, _ names: [String], _ missing: [String]) {
    #expect(BootFiles.missingFirmware(for: model, in: names) == missing)
  }
}
