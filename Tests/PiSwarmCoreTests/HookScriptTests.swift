import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// The dnsmasq hook as dnsmasq runs it: real dash (Debian's /bin/sh), the arguments and
/// environment dnsmasq would pass, values from the LAN at their most hostile. What it writes is
/// read back with `HookSpool.events`, the readers' parser.
@Suite struct HookScriptTests {
  static let mac = "b8:27:eb:00:00:01"
  static let vendor = BootEvent.piVendorClass

  /// A hook in a folder of its own, its spool and dnsmasq's log beside it.
  struct Hook {
    let dir = TemporaryDirectory("piswarm-hook")
    var spool: String { dir.file("hook-events") }
    var log: String { dir.file("dnsmasq.log") }
    let script: String

    init(segmentRecords: Int = HookSpool.segmentRecords, logCheckEvery: Int = 256, logLimit: Int64 = 8 << 20) throws {
      let spool = dir.file("hook-events")
      script = dir.write(
        "dnsmasq-hook",
        try HookScript.render(
          spool: spool, log: dir.file("dnsmasq.log"), logLimit: logLimit, segmentRecords: segmentRecords,
          logCheckEvery: logCheckEvery))
    }

    /// Runs it as dnsmasq does (the script's path, then the words); returns its exit status
    /// and what it printed (nothing, ever).
    @discardableResult
    func run(_ words: [String], vendor: String? = nil) throws -> (status: Int32, output: String) {
      try DnsmasqHookRun.run(script, words, vendor: vendor)
    }

    func segment(_ index: Int) -> [UInt8] {
      FileManager.default.contents(atPath: HookSpool.segments(spool)[index]).map { [UInt8]($0) } ?? []
    }

    var events: [BootEvent] { HookSpool.events(segment(0)) + HookSpool.events(segment(1)) }
  }

  @Test func matchesGolden() throws {
    let text = try HookScript.render(
      spool: "/var/lib/pi swarm/netboot/hook-events", log: "/var/lib/pi swarm/netboot/dnsmasq.log", logLimit: 8 << 20)
    if let problem = Golden.check(text, named: "dnsmasq-hook.sh") { Issue.record(Comment(rawValue: problem)) }
    #expect(!text.contains("piswarm --state-dir") && !text.contains("netboot hook"), "the hook starts no piswarm")
  }

  /// Each call dnsmasq makes: leases, ARP changes and the transfers that mark a boot phase are
  /// kept, exactly as `BootEvent.fromHook` reads them (time aside); the rest leave no record.
  @Test(
    arguments: [
      (["add", mac, "10.42.0.1", "node01"], vendor, true),
      (["add", mac, "10.42.0.1"], nil, true),
      (["old", mac, "10.42.0.1", "node01"], vendor, true),
      (["del", mac, "10.42.0.1"], nil, true),
      (["arp-add", mac, "10.42.0.1"], nil, true),
      (["tftp", "2300000", "10.42.0.1", "/srv/tftp/b8-27-eb-00-00-01/start4.elf"], nil, true),
      (["tftp", "52480", "10.42.0.1", "/srv/tftp/b8-27-eb-00-00-01/bootcode.bin"], nil, true),
      (["tftp", "9000000", "10.42.0.1", "/srv/tftp/5a5b5c5d/kernel_2712.img"], nil, true),
      (["tftp", "60000", "10.42.0.1", "/srv/tftp/5a5b5c5d/bcm2712-rpi-5-b.dtb"], nil, true),
      (["tftp", "190", "10.42.0.1", "/srv/tftp/5a5b5c5d/cmdline.txt"], nil, false),
      (["tftp", "11000000", "10.42.0.1", "/srv/tftp/5a5b5c5d/initramfs_2712"], nil, false),
      (["arp-del", mac, "10.42.0.1"], nil, false),
      (["init"], nil, false),
      ([], nil, false),
    ] as [([String], String?, Bool)])
  func keepsWhatSaysSomethingAboutABoot(_ words: [String], _ vendor: String?, _ kept: Bool) throws {
    let hook = try Hook()
    let before = Date()
    let result = try hook.run(words, vendor: vendor)
    let after = Date()
    #expect(result.status == 0 && result.output.isEmpty, "\(result)")
    let events = hook.events
    guard kept else {
      #expect(events.isEmpty && hook.segment(0).isEmpty, "\(events)")
      return
    }
    let event = try #require(events.first, "no record for \(words)")
    #expect(events.count == 1)
    // The hook's own clock, to better than the second (`date +%s.%N`).
    #expect(event.time >= before.addingTimeInterval(-0.01) && event.time <= after.addingTimeInterval(0.01), "\(event.time)")
    var expected = try #require(
      BootEvent.fromHook(words, environment: vendor.map { ["DNSMASQ_VENDOR_CLASS": $0] } ?? [:], time: event.time))
    expected.time = event.time
    #expect(event == expected)
  }

  /// Host names, vendor classes and paths come from the LAN: newlines, tabs, quotes, shell
  /// syntax, terminal controls, the spool's own marker (bytes that are no UTF-8: HookSpoolTests). The shell runs
  /// none of it, each record stays one record, and the reader validates and escapes it.
  @Test func hostileValuesStayDataAndOneRecordEach() throws {
    let hook = try Hook()
    let canary = hook.dir.file("ran")
    let hostile = [
      "a\nb", "tab\there", "quote'\"`", "$(touch \(canary))", "`touch \(canary)`", ";touch \(canary)",
      "\u{1B}[2Jcleared", HookSpool.magic, "", "*", "-n", "%s%s%n",
    ]
    for (index, value) in hostile.enumerated() {
      try hook.run(["add", "b8:27:eb:00:00:\(String(format: "%02x", index))", "10.42.0.\(index + 1)", value], vendor: value)
      try hook.run(["tftp", "9", "10.42.0.\(index + 1)", "/srv/tftp/\(value)/kernel8.img"])
    }
    try hook.run(["arp-add", Self.mac, "10.42.0.99"], vendor: "\n")
    #expect(!FileManager.default.fileExists(atPath: canary), "the hook ran something from the LAN")
    let events = hook.events
    let leases = events.filter { $0.kind == .lease }
    let kernels = events.filter { $0.kind == .tftpSent }
    #expect(leases.count == hostile.count && kernels.count == hostile.count, "\(events)")
    #expect(events.filter { $0.kind == .arp }.count == 1)
    for (index, value) in hostile.enumerated() where index < leases.count && index < kernels.count {
      #expect(leases[index].ip == "10.42.0.\(index + 1)")
      #expect(leases[index].detail == (HostName.problem(with: value) == nil ? value : nil), "\(value.debugDescription)")
      #expect(leases[index].vendorClass == (value.isEmpty ? nil : TerminalText.escaped(value)), "\(value.debugDescription)")
      #expect(kernels[index].path == TerminalText.escaped("/srv/tftp/\(value)/kernel8.img"))
      #expect(BootPhase.of(file: kernels[index].path ?? "") == .kernel)
    }
    #expect(!(leases.compactMap(\.vendorClass).joined() + kernels.compactMap(\.path).joined()).contains("\u{1B}"))
  }

  /// Bounded with nobody reading: two segments, the older emptied when the newer is full. With
  /// three records a segment, seven events leave the last five, a corrupt counter starts over.
  @Test func theSpoolKeepsTwoSegmentsAndNoMore() throws {
    let hook = try Hook(segmentRecords: 3)
    for index in 1...7 { try hook.run(["arp-add", Self.mac, "10.42.0.\(index)"]) }
    #expect(HookSpool.events(hook.segment(1)).compactMap(\.ip) == ["10.42.0.3", "10.42.0.4", "10.42.0.5"])
    #expect(HookSpool.events(hook.segment(0)).compactMap(\.ip) == ["10.42.0.6", "10.42.0.7"])
    #expect(hook.dir.read("hook-events.count") == "1\n")
    for garbage in ["x\n", "", "99999999999999999999\n", "-4\n"] {
      hook.dir.write("hook-events.count", garbage)
      try hook.run(["arp-add", Self.mac, "10.42.0.8"])
      #expect(hook.dir.read("hook-events.count") == "1\n", "\(garbage.debugDescription)")
    }
    #expect(hook.events.count == 9)
  }

  /// dnsmasq's log, past its limit, moves to LOG.1 and is emptied in place (every
  /// `logCheckEvery` records); below it, or when it is a link, it is left alone.
  @Test func theHookKeepsDnsmasqsLogBounded() throws {
    let hook = try Hook(logCheckEvery: 2, logLimit: 10)
    hook.dir.write("dnsmasq.log", "0123456789ab\n")
    try hook.run(["arp-add", Self.mac, "10.42.0.1"])
    #expect(hook.dir.read("dnsmasq.log") == "0123456789ab\n", "checked every second record only")
    try hook.run(["arp-add", Self.mac, "10.42.0.2"])
    #expect(hook.dir.read("dnsmasq.log") == "")
    #expect(hook.dir.read("dnsmasq.log.1") == "0123456789ab\n")
    // Below the limit: untouched, and LOG.1 as it was.
    hook.dir.write("dnsmasq.log", "short\n")
    for index in 3...4 { try hook.run(["arp-add", Self.mac, "10.42.0.\(index)"]) }
    #expect(hook.dir.read("dnsmasq.log") == "short\n")
    #expect(hook.dir.read("dnsmasq.log.1") == "0123456789ab\n")
    // A link is never followed.
    let target = hook.dir.write("elsewhere", "a long text that is over the limit\n")
    try FileManager.default.removeItem(atPath: hook.log)
    try FileManager.default.createSymbolicLink(atPath: hook.log, withDestinationPath: target)
    for index in 5...6 { try hook.run(["arp-add", Self.mac, "10.42.0.\(index)"]) }
    #expect(hook.dir.read("elsewhere") == "a long text that is over the limit\n")
    #expect(hook.dir.read("dnsmasq.log.1") == "0123456789ab\n")
    #expect(hook.events.count == 6)
  }
}
