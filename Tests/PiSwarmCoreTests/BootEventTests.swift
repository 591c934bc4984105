import Foundation
import Testing

@testable import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct BootEventTests {
  static let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18

  var utc: Calendar {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
    return calendar
  }

  @Test func option97OfAPi4() throws {
    var bytes: [UInt8] =
      [0] + Array("RPi4".utf8) + [0x00, 0xC0, 0x31, 0x11] + [0xEB, 0xD3, 0x85, 0x78] + [0x1A, 0x2B, 0x3C, 0x4D]
    let id = try #require(PiClientID(bytes))
    #expect(id.marker == "RPi4")
    #expect(id.revision == 0x00C0_3111)
    #expect(id.model == .pi4)
    #expect(id.serialText == "1a2b3c4d")
    #expect(id.macLow == [0xEB, 0xD3, 0x85, 0x78])
    #expect(id.bytes == bytes)
    #expect(PiClientID(Array(bytes.dropFirst()))?.serialText == "1a2b3c4d")
    bytes[0] = 1
    #expect(PiClientID(bytes) == nil)
  }

  @Test(arguments: [
    (UInt32(0x00C0_4170), BoardModel?.some(.pi5)), (0x00A0_20D3, .pi3bplus), (0x00C0_3130, .pi400), (0x00A0_3141, .cm4),
    (0x0090_2120, .zero2w), (0x0000_000E, nil),
  ])
  func boardModelFromRevision(_ revision: UInt32, _ model: BoardModel?) {
    #expect(PiClientID.model(revision: revision) == model)
  }

  @Test func option97RejectsOtherUUIDs() {
    #expect(PiClientID([UInt8](repeating: 0, count: 17)) == nil)
    #expect(PiClientID([0] + Array("RPi4".utf8)) == nil)
  }

  @Test func hookCalls() throws {
    let time = Self.now
    let env = ["DNSMASQ_VENDOR_CLASS": "PXEClient:Arch:00000:UNDI:002001"]
    let add = try #require(BootEvent.fromHook(["add", "B8:27:EB:00:00:01", "10.42.0.1", "node01"], environment: env, time: time))
    #expect(
      add
        == BootEvent(
          time: time, kind: .lease, mac: "b8:27:eb:00:00:01", ip: "10.42.0.1", vendorClass: env.values.first, detail: "node01"))
    #expect(BootEvent.fromHook(["del", "b8:27:eb:00:00:01", "10.42.0.1"], environment: [:], time: time)?.kind == .release)
    let tftp = try #require(
      BootEvent.fromHook(["tftp", "4096", "10.42.0.1", "/srv/tftp/x/start4.elf"], environment: [:], time: time))
    #expect(tftp.kind == .tftpSent && tftp.path == "/srv/tftp/x/start4.elf" && tftp.ip == "10.42.0.1")
    #expect(BootEvent.fromHook(["arp-add", "b8:27:eb:00:00:01", "10.42.0.1"], environment: [:], time: time)?.kind == .arp)
    #expect(BootEvent.fromHook(["init"], environment: [:], time: time) == nil)
    #expect(BootEvent.fromHook(["add", "not-a-mac", "10.42.0.1"], environment: [:], time: time) == nil)
    #expect(BootEvent.fromHook(["tftp", "x", "10.42.0.1", "/a"], environment: [:], time: time) == nil)
    #expect(BootEvent.fromHook([], environment: [:], time: time) == nil)
  }

  static let log = """
    Nov 17 05:29:03 dnsmasq[1929]: started, version 2.90 DNS disabled
    Nov 17 05:29:04 dnsmasq-dhcp[1929]: 3187362 vendor class: PXEClient:Arch:00000:UNDI:002001
    Nov 17 05:29:04 dnsmasq-dhcp[1929]: 3187362 PXE(veth0) b8:27:eb:00:00:07 proxy
    Nov 17 05:29:04 dnsmasq-dhcp[1929]: 3187362 sent size: 17 option: 97 client-machine-id  00:52:50:69:35:00:c0:41:70:eb:00:00:01:00...
    Nov 17 05:29:04 dnsmasq-dhcp[1929]: 99 DHCPDISCOVER(veth0) dc:a6:32:00:00:08 no address available
    Nov  7 05:29:05 dnsmasq-tftp[1929]: sent /srv/tftp/b8-27-eb-00-00-01/start4.elf to 10.42.0.1
    Nov 17 05:29:05 dnsmasq-tftp[1929]: file /srv/tftp/1a2b3c4d/start4.elf not found for 10.42.0.77
    Dec 31 23:59:59 dnsmasq-dhcp[1929]: 5 DHCPACK(veth0) 10.42.0.1 b8:27:eb:00:00:01 node01
    garbage line
    """

  @Test func logLines() throws {
    let events = DnsmasqLog.events(Self.log, now: Self.now, calendar: utc)
    #expect(events.map(\.kind) == [.pxe, .discover, .tftpSent, .tftpMissing, .lease])
    #expect(events[0].mac == "b8:27:eb:00:00:07")
    #expect(events[0].vendorClass == BootEvent.piVendorClass)
    #expect(events[0].model == "pi5")
    #expect(events[1].model == nil)
    #expect(events[1].vendorClass == nil)
    #expect(events[2].path == "/srv/tftp/b8-27-eb-00-00-01/start4.elf" && events[2].ip == "10.42.0.1")
    #expect(events[3].path == "/srv/tftp/1a2b3c4d/start4.elf" && events[3].ip == "10.42.0.77")
    #expect(utc.component(.day, from: events[2].time) == 7)
    // A date after now is from last year.
    #expect(utc.component(.year, from: events[4].time) == 2025)
    #expect(utc.component(.year, from: events[0].time) == 2026)
  }

  func cluster() throws -> Cluster {
    let decoded = ClusterFile.decode(
      text: """
        name: t
        head: { interface: eth1, address: 10.42.0.250/24, lan: dhcp, dhcp_range: 10.42.0.100-10.42.0.149, tftp_root: /srv/tftp }
        nodes:
          - { name: node01, ip: 10.42.0.1, mac: b8:27:eb:00:00:01 }
          - { name: node07, ip: 10.42.0.99, serial: 0badcafe }
        """)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  @Test func discoverFindsUnknownNetbootersOnly() throws {
    let t = Self.now
    let events = [
      BootEvent(time: t, kind: .pxe, mac: "b8:27:eb:00:00:01"),  // known
      BootEvent(time: t + 1, kind: .arp, mac: "dc:a6:32:00:00:08", ip: "10.42.0.77"),
      BootEvent(time: t + 2, kind: .tftpMissing, ip: "10.42.0.77", path: "/srv/tftp/1a2b3c4d/start4.elf"),
      BootEvent(time: t + 3, kind: .discover, mac: "00:11:22:33:44:55"),  // a PC's plain DHCP: not a netboot request
      BootEvent(time: t + 4, kind: .discover, mac: "00:11:22:33:44:66", vendorClass: "PXEClient:Arch:00007:UNDI:003016"),
      BootEvent(time: t + 5, kind: .pxe, mac: "e4:5f:01:00:00:09"),
      BootEvent(time: t + 6, kind: .tftpMissing, ip: "10.42.0.78", path: "/srv/tftp/0badcafe/start4.elf"),  // known serial
    ]
    let found = Discovery.sightings(events, cluster: try cluster())
    #expect(found.map(\.mac) == ["dc:a6:32:00:00:08", "00:11:22:33:44:66", "e4:5f:01:00:00:09"])
    #expect(found[0].serial == "1a2b3c4d" && found[0].isPi && found[0].ip == "10.42.0.77")
    #expect(!found[1].isPi)
    #expect(found[2].isPi)
  }

  @Test func aPi5IsFoundByTheSerialFolderItsConfigWasAskedFrom() throws {
    let t = Self.now
    let events = [
      BootEvent(time: t, kind: .arp, mac: "2c:cf:67:00:00:05", ip: "10.42.0.80"),
      BootEvent(time: t + 1, kind: .tftpMissing, ip: "10.42.0.80", path: "/srv/tftp/5a5b5c5d/config.txt"),
    ]
    let found = Discovery.sightings(events, cluster: try cluster())
    #expect(found.map(\.mac) == ["2c:cf:67:00:00:05"])
    #expect(found.first?.serial == "5a5b5c5d" && found.first?.model == "pi5" && found.first?.isPi == true)
  }

  @Test(arguments: [
    ("/t/x/bootcode.bin", BootPhase?.some(.firmware)), ("/t/x/start4.elf", .firmware), ("/t/x/start.elf", .firmware),
    ("/t/x/bcm2712-rpi-5-b.dtb", .firmware), ("/t/x/bcm2711-rpi-4-b.dtb", nil), ("/t/x/kernel_2712.img", .kernel),
    ("/t/x/kernel8.img", .kernel), ("/t/x/cmdline.txt", nil), ("/t/x/config.txt", nil), ("/t/x/initramfs_2712", nil),
  ])
  func phaseOfAFile(_ path: String, _ phase: BootPhase?) {
    #expect(BootPhase.of(file: path) == phase)
    // The hook's shell filter lets through exactly what marks a phase (and nothing it drops does).
    let name = String(path.split(separator: "/").last ?? "")
    let passes = BootPhase.hookPatterns.contains { pattern in
      fnmatch(pattern, name, 0) == 0
    }
    #expect(passes == (phase != nil), "\(name)")
  }

  @Test func discoverPicksNamesAndAddresses() throws {
    let cluster = try cluster()
    let t = Self.now
    let sightings = [
      Sighting(mac: "dc:a6:32:00:00:08", serial: "1a2b3c4d", model: "pi4", isPi: true, firstSeen: t, lastSeen: t),
      Sighting(mac: "e4:5f:01:00:00:09", isPi: true, firstSeen: t, lastSeen: t),
    ]
    let specs = try Discovery.specs(for: sightings, in: cluster)
    #expect(specs.map(\.name) == ["node08", "node09"])
    // After the highest node address (.99), skipping the DHCP range .100–.149.
    #expect(specs.map(\.ip.description) == ["10.42.0.150", "10.42.0.151"])
    #expect(specs[0].serial == "1a2b3c4d" && specs[0].model == .pi4 && specs[0].mac?.description == "dc:a6:32:00:00:08")
  }

  @Test(arguments: [
    ([String](), "node01"), (["node01", "node02"], "node03"), (["node009", "x"], "node010"), (["node7", "node08"], "node09"),
    (["nodeX", "node"], "node01"),
  ])
  func nextName(_ used: [String], _ expected: String) {
    #expect(Discovery.nextName(used: Set(used)) == expected)
  }

  @Test func bootProgressFollowsTheLastBoot() throws {
    let cluster = try cluster()
    let t = Self.now
    let events = [
      BootEvent(time: t, kind: .pxe, mac: "b8:27:eb:00:00:01"),
      BootEvent(time: t + 1, kind: .tftpSent, ip: "10.42.0.1", path: "/srv/tftp/b8-27-eb-00-00-01/start4.elf"),
      BootEvent(time: t + 2, kind: .tftpSent, ip: "10.42.0.1", path: "/srv/tftp/b8-27-eb-00-00-01/kernel8.img"),
      BootEvent(time: t + 10, kind: .pxe, mac: "b8:27:eb:00:00:01"),  // rebooted
      BootEvent(time: t + 11, kind: .tftpSent, ip: "10.42.0.5", path: "/srv/tftp/0badcafe/start4.elf"),
    ]
    let progress = BootProgress.progress(cluster, events: events) { _ in false }
    #expect(progress[0].phase == .seen && progress[0].time == t + 10)
    #expect(progress[1].phase == .firmware && progress[1].time == t + 11)
    #expect(progress[1].steps.first { $0.phase == .nfsRoot }?.state == "unknown")
    let up = BootProgress.progress(cluster, events: Array(events.prefix(3))) { $0.name == "node01" }
    #expect(up[0].phase == .ssh)
    #expect(up[0].steps.map(\.state) == ["observed", "observed", "observed", "inferred", "up"])
  }
}
