import Testing

@testable import PiSwarmCore

/// `doctor`'s judgements: each finding from what the probes saw, with advice when it is not ok.
@Suite struct DoctorTests {
  static func head(_ lan: LANMode) throws -> Head {
    var head = try #require(decode(baseFile).cluster).head
    head.lan = lan
    return head
  }

  static let ours = Doctor.Offer(server: IPv4Address("10.42.0.250")!, address: IPv4Address(0), piMenu: true)
  static let router = Doctor.Offer(server: IPv4Address("10.42.0.1")!, address: IPv4Address("10.42.0.120")!, piMenu: false)
  static let rogue = Doctor.Offer(server: IPv4Address("10.42.0.66")!, address: IPv4Address(0), piMenu: true)

  @Test func aSecondDHCPServerInDHCPModeIsAnErrorWithWhatToDo() throws {
    let findings = Doctor.dhcp([Self.ours, Self.router], head: try Self.head(.dhcp))
    #expect(findings.count == 1)
    let finding = try #require(findings.first)
    #expect(finding.severity == .error && finding.check == "dhcp" && finding.place == "lan")
    #expect(finding.message.contains("another DHCP server answers on eth1: 10.42.0.1 (offered 10.42.0.120)"), "\(finding)")
    #expect(finding.advice?.contains("set head.lan: proxy") == true)
    // Alone: ok.
    #expect(Doctor.dhcp([Self.ours], head: try Self.head(.dhcp)).map(\.severity) == [.ok])
  }

  @Test func proxyModeWantsOneRouterAndNoOtherPiBootServer() throws {
    let head = try Self.head(.proxy)
    #expect(Doctor.dhcp([Self.ours, Self.router], head: head).map(\.severity) == [.ok])
    let none = Doctor.dhcp([Self.ours], head: head)
    #expect(none.map(\.severity) == [.warning] && none[0].message.contains("no DHCP server gave an address"))
    let second = Doctor.Offer(server: IPv4Address("10.42.0.2")!, address: IPv4Address("10.42.0.130")!, piMenu: false)
    #expect(Doctor.dhcp([Self.router, second], head: head).first?.message.hasPrefix("2 DHCP servers hand out addresses") == true)
    let boot = Doctor.dhcp([Self.ours, Self.router, Self.rogue], head: head)
    #expect(boot.map(\.severity) == [.error] && boot[0].message.contains("10.42.0.66 offers Raspberry Pi network boot"))
  }

  @Test func spaceClockMTUAndPower() {
    let gib: UInt64 = 1 << 30
    #expect(Doctor.space("nfs_root", path: "/srv", available: 100 * gib, total: 200 * gib).severity == .ok)
    #expect(Doctor.space("nfs_root", path: "/srv", available: 20 * gib, total: 200 * gib).severity == .warning)
    let full = Doctor.space("nfs_root", path: "/srv", available: gib / 2, total: 200 * gib)
    #expect(
      full.severity == .error && full.message == "nfs_root /srv: 512.0M free of 200.0G (0%)" && full.advice != nil, "\(full)")
    #expect(Doctor.clock("NTP=yes\nNTPSynchronized=yes\n").severity == .ok)
    let off = Doctor.clock("NTP=no\nNTPSynchronized=no\n")
    #expect(off.severity == .warning && off.message.contains("time sync is off") && off.advice?.contains("x509") == true)
    #expect(Doctor.clock(nil).severity == .warning)
    #expect(Doctor.mtu(head: 1500, interface: "eth1", nodes: ["node01": 1500]).map(\.severity) == [.ok])
    let odd = Doctor.mtu(head: 1500, interface: "eth1", nodes: ["node01": 1500, "node02": 9000])
    #expect(odd.count == 1 && odd[0].place == "node02" && odd[0].message.hasPrefix("MTU 9000 on node02, 1500 on the head's eth1"))
    let power = Doctor.power(["node01": "0x0", "node02": "0x50005", "node03": "0x80000"])
    #expect(power.map(\.place) == ["node02", "node03"])
    #expect(power[0].severity == .error && power[0].message.contains("under-voltage"))
    #expect(power[1].severity == .warning)
  }

  @Test func theTableShowsTheWorstFirstWithAdvice() {
    let table = Doctor.table([
      Doctor.Finding("clock", "head", .ok, "synchronized"),
      Doctor.Finding("dhcp", "lan", .error, "another server", advice: "switch it off"),
    ])
    let lines = table.split(separator: "\n").map(String.init)
    #expect(lines.count == 4, "\(table)")
    #expect(lines[1].hasPrefix("error") && lines[2].contains("→ switch it off") && lines[3].hasPrefix("ok"), "\(table)")
  }
}
