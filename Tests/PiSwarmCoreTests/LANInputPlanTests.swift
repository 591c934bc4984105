import Foundation
import Testing

@testable import PiSwarmCore

/// What `discover --add` adopts, and what it never does unasked.
@Suite struct DiscoveryPlanTests {
  static func cluster(_ swarm: String = "") throws -> Cluster {
    let decoded = ClusterFile.decode(
      text: """
        name: t
        head: { interface: eth1, address: 10.42.0.250/24, lan: dhcp }
        \(swarm)
        nodes:
          - { name: node01, ip: 10.42.0.1, mac: b8:27:eb:00:00:01 }

        """)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  static let t = Date(timeIntervalSince1970: 1_700_000_000)
  static let sightings = [
    Sighting(mac: "00:11:22:33:44:55", vendorClass: "PXEClient:Arch:00007:UNDI:003016", isPi: false, firstSeen: t, lastSeen: t),
    Sighting(mac: "88:a2:9e:00:00:02", isPi: MACAddress("88:a2:9e:00:00:02")?.isRaspberryPi ?? false, firstSeen: t, lastSeen: t),
  ]

  @Test func onlyPisUnlessAny() throws {
    let cluster = try Self.cluster()
    let plan = try Discovery.plan(for: Self.sightings, in: cluster, any: false)
    #expect(plan.adds.map(\.sighting.mac) == ["88:a2:9e:00:00:02"])
    #expect(plan.adds.map(\.spec.name) == ["node02"])
    #expect(plan.leftOut.map(\.mac) == ["00:11:22:33:44:55"])
    #expect(Discovery.leftOutReason(plan.leftOut[0]).contains("not a Raspberry Pi board"))
    #expect(Discovery.describe(plan.adds[0].spec, plan.adds[0].sighting) == "node02 (10.42.0.2) for 88:a2:9e:00:00:02")
    let any = try Discovery.plan(for: Self.sightings, in: cluster, any: true)
    #expect(any.adds.map(\.sighting.mac) == ["00:11:22:33:44:55", "88:a2:9e:00:00:02"] && any.leftOut.isEmpty)
  }

  @Test func newManagersAreRefused() throws {
    // Three nodes with swarm.managers unset: all three manage the swarm.
    let after = try #require(
      ClusterFile.decode(
        text:
          "name: t\nhead: { interface: eth1, address: 10.42.0.250/24 }\nnodes:\n  - { name: node01, ip: 10.42.0.1, mac: b8:27:eb:00:00:01 }\n  - { name: node02, ip: 10.42.0.2, mac: b8:27:eb:00:00:02 }\n  - { name: node03, ip: 10.42.0.3, mac: b8:27:eb:00:00:03 }\n"
      ).cluster)
    #expect(throws: PiSwarmError.self) { try Discovery.checkNoNewManagers(["node02", "node03"], after: after) }
    do {
      try Discovery.checkNoNewManagers(["node02", "node03"], after: after)
    } catch {
      #expect(error.message.contains("adding node02, node03 would make them swarm managers: swarm.managers is not set"))
      #expect(error.advice?.contains("--allow-managers") == true)
    }
    #expect(throws: Never.self) { try Discovery.checkNoNewManagers(["node04"], after: after) }
  }
}

/// Warnings that need a stat or the whole cluster, decided purely.
@Suite struct ExposureWarningTests {
  typealias Status = ClusterFileAccess.Status

  @Test func clusterFileOthersCanWrite() {
    let folder = (path: "/etc/piswarm", status: Status(owner: 0, group: 0, mode: 0o40755))
    #expect(
      ClusterFileAccess.warning(path: "c.yml", file: Status(owner: 0, group: 0, mode: 0o100644), folder: folder, reader: 0) == nil
    )
    #expect(
      ClusterFileAccess.warning(path: "c.yml", file: Status(owner: 0, group: 0, mode: 0o100664), folder: folder, reader: 0) == nil
    )
    let world = ClusterFileAccess.warning(
      path: "c.yml", file: Status(owner: 0, group: 0, mode: 0o100666), folder: folder, reader: 0)
    #expect(world?.hasPrefix("c.yml: warning: the file is writable by every user (mode 0666)") == true, "\(world ?? "")")
    let group = ClusterFileAccess.warning(
      path: "c.yml", file: Status(owner: 0, group: 100, mode: 0o100664), folder: folder, reader: 0)
    #expect(group?.contains("writable by group 100") == true)
    let owned = ClusterFileAccess.warning(
      path: "c.yml", file: Status(owner: 1000, group: 0, mode: 0o100644), folder: folder, reader: 0)
    #expect(owned?.contains("owned by uid 1000") == true)
    // A user's own file, read by that user, is not someone else's.
    #expect(
      ClusterFileAccess.warning(path: "c.yml", file: Status(owner: 1000, group: 0, mode: 0o100644), folder: nil, reader: 1000)
        == nil)
    let open = ClusterFileAccess.warning(
      path: "c.yml", file: Status(owner: 0, group: 0, mode: 0o100644),
      folder: ("/srv/x", Status(owner: 0, group: 0, mode: 0o40777)),
      reader: 0)
    #expect(open?.contains("its folder /srv/x is writable by every user (mode 0777)") == true, "\(open ?? "")")
    #expect(open?.hasSuffix("chown root:root /srv/x && chmod 0755 /srv/x") == true, "\(open ?? "")")
    #expect(
      ClusterFileAccess.warning(
        path: "c.yml", file: Status(owner: 0, group: 0, mode: 0o100644),
        folder: ("/tmp", Status(owner: 0, group: 0, mode: 0o41777)),
        reader: 0) == nil)
  }

  @Test func netbootNodesOnASharedLAN() throws {
    let proxy = try #require(
      ClusterFile.decode(
        text:
          "name: t\nhead: { interface: eth1, address: 10.42.0.250/24, lan: proxy }\nnodes:\n  - { name: a1, ip: 10.42.0.1, mac: b8:27:eb:00:00:01 }\n  - { name: a2, ip: 10.42.0.2, boot: sd }\n"
      ).cluster)
    #expect(LANExposure.warning(proxy)?.hasPrefix("1 netboot node sits on a shared LAN (head.lan: proxy)") == true)
    var dhcp = proxy
    dhcp.head.lan = .dhcp
    #expect(LANExposure.warning(dhcp) == nil)
    var sdOnly = proxy
    sdOnly.nodes = sdOnly.nodes.filter { $0.boot != .netboot }
    #expect(LANExposure.warning(sdOnly) == nil)
  }
}
