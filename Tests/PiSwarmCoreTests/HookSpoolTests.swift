import Foundation
import Testing

@testable import PiSwarmCore

/// Reading the hook's spool: records as the hook writes them, and what a cut-off write, a
/// hostile LAN or a stray file could leave there instead.
@Suite struct HookSpoolTests {
  static let mac = "b8:27:eb:00:00:01"

  /// One record as the hook writes it: `printf '%s\0' '' MAGIC TIME VENDOR COUNT ARGS... end`.
  static func record(_ arguments: [String], time: String = "1795696501.036253807", vendor: String = "") -> [UInt8] {
    record(fields: ["", HookSpool.magic, time, vendor, String(arguments.count)] + arguments + [HookSpool.end])
  }

  static func record(fields: [String]) -> [UInt8] { fields.flatMap { Array($0.utf8) + [0] } }

  @Test func readsRecordsInOrderWithTheirTimesAndVendorClasses() throws {
    let bytes =
      Self.record(["add", Self.mac, "10.42.0.1", "node01"], vendor: BootEvent.piVendorClass)
      + Self.record(["tftp", "9000000", "10.42.0.1", "/srv/tftp/b8-27-eb-00-00-01/kernel8.img"], time: "1795696502.5")
      + Self.record(["arp-add", "B8:27:EB:00:00:02", "10.42.0.2"], time: "1795696503")
    let events = HookSpool.events(bytes)
    #expect(events.map(\.kind) == [.lease, .tftpSent, .arp])
    #expect(events[0].time == Date(timeIntervalSince1970: 1_795_696_501.036253807))
    #expect(events[0].vendorClass == BootEvent.piVendorClass && events[0].detail == "node01" && events[0].mac == Self.mac)
    #expect(events[1].time == Date(timeIntervalSince1970: 1_795_696_502.5) && events[1].detail == "9000000 bytes")
    #expect(events[2].mac == "b8:27:eb:00:00:02" && events[2].vendorClass == nil)
  }

  /// Whatever is wrong with one record costs that record only.
  @Test(
    arguments: [
      ("cut off in its last field", Array(record(["arp-add", mac, "10.42.0.9"]).dropLast(3))),
      ("cut off after its count", record(fields: ["", HookSpool.magic, "1795696501", "", "3", "arp-add"])),
      ("cut off after its address", record(fields: ["", HookSpool.magic, "1795696501", "", "4", "add", mac, "10.42.0.9"])),
      ("no end", record(fields: ["", HookSpool.magic, "1795696501", "", "3", "arp-add", mac, "10.42.0.9", "and"])),
      ("no time", record(["arp-add", mac, "10.42.0.9"], time: "")),
      ("a time that is no number", record(["arp-add", mac, "10.42.0.9"], time: "1e9")),
      ("a time that is not finite", record(["arp-add", mac, "10.42.0.9"], time: "nan")),
      ("a negative time", record(["arp-add", mac, "10.42.0.9"], time: "-1")),
      ("a time after the year 3000", record(["arp-add", mac, "10.42.0.9"], time: "99999999999")),
      ("no arguments", record(fields: ["", HookSpool.magic, "1795696501", "", "0"])),
      ("too many arguments", record(fields: ["", HookSpool.magic, "1795696501", "", "99", "arp-add", mac, "10.42.0.9"])),
      (
        "a count that is no number",
        record(fields: ["", HookSpool.magic, "1795696501", "", "three", "arp-add", mac, "10.42.0.9"])
      ),
      ("another marker", record(fields: ["", "piswarm-hook-0", "1795696501", "", "3", "arp-add", mac, "10.42.0.9"])),
      ("a bad MAC", record(["arp-add", "b8:27:eb:00:00", "10.42.0.9"])),
      ("a bad address", record(["add", mac, "10.42.0.256", "node01"])),
      ("a bad size", record(["tftp", "-1", "10.42.0.9", "/srv/tftp/x/kernel8.img"])),
      ("an action the hook does not keep", record(["init"])),
      ("stray bytes", Array("not a record\n".utf8)),
      ("stray bytes with NULs", [0, 0, 0xFF, 0, 0x0A, 0]),
    ] as [(String, [UInt8])])
  func aBadRecordIsSkippedAndTheNextOneRead(_ what: String, _ bad: [UInt8]) {
    let good = Self.record(["arp-add", Self.mac, "10.42.0.1"])
    let events = HookSpool.events(good + bad + good)
    #expect(events.map(\.ip) == ["10.42.0.1", "10.42.0.1"], "\(what): \(events)")
    #expect(HookSpool.events(bad).isEmpty, "\(what)")
  }

  /// A record cut off by a full disk, then the hook's next record: only the next is read.
  @Test func aRecordCutShortDoesNotSwallowTheNext() {
    let cut = Array(Self.record(["add", Self.mac, "10.42.0.1", "node01"]).prefix(30))
    let events = HookSpool.events(cut + Self.record(["arp-add", Self.mac, "10.42.0.2"]))
    #expect(events.map(\.ip) == ["10.42.0.2"])
  }

  /// The LAN sets a host name and a vendor class: neither can make a record of its own, even
  /// when it is the marker or the end, or sits in a record that is rejected.
  @Test func fieldsFromTheLANNeverMakeRecords() {
    // (No value can hold a NUL: dnsmasq passes C strings.)
    for value in [HookSpool.magic, HookSpool.end, "4", "1795696501", "\n", "x\u{1B}]0;title\u{07}"] {
      for mac in [Self.mac, "not-a-mac"] {
        let bytes =
          Self.record(["add", mac, "10.42.0.1", value], vendor: value) + Self.record(["arp-add", Self.mac, "10.42.0.2"])
        let events = HookSpool.events(bytes)
        #expect(events.last?.ip == "10.42.0.2")
        #expect(events.count == (mac == Self.mac ? 2 : 1))
        #expect(!(events.compactMap(\.vendorClass).joined() + events.compactMap(\.detail).joined()).contains("\u{1B}"))
      }
    }
  }

  /// Bytes that are no UTF-8 (a vendor class in ISO 8859-1) are replaced, never passed on.
  @Test func bytesThatAreNoUTF8AreReplaced() throws {
    var bytes = Self.record(fields: ["", HookSpool.magic, "1795696501", "PX"])
    bytes.insert(0xE9, at: bytes.count - 1)
    bytes += Self.record(fields: ["4", "add", Self.mac, "10.42.0.1", "node01", HookSpool.end])
    let event = try #require(HookSpool.events(bytes).first)
    #expect(event.vendorClass == "PX\u{FFFD}")
  }

  @Test func emptyAndMissingSpoolsHaveNoEvents() {
    #expect(HookSpool.events([]).isEmpty)
    #expect(HookSpool.events([0]).isEmpty)
    #expect(HookSpool.segments("/s/hook-events") == ["/s/hook-events.0", "/s/hook-events.1"])
    #expect(HookSpool.counter("/s/hook-events") == "/s/hook-events.count")
  }
}
