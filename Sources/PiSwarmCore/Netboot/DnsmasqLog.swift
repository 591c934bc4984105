import Foundation

/// dnsmasq's own log (`log-facility=FILE`), where proxy-mode requests show up: there is no
/// script call for them.
public enum DnsmasqLog {
  /// Events in the log's text. Lines have the form `Nov 22 05:29:03 dnsmasq-dhcp[12]: [XID ]TEXT`;
  /// the log carries no year, so `year` says which (a date after `now` is taken from the year
  /// before). Vendor classes (`XID vendor class: …`, logged with `log-dhcp`) are attached to the
  /// request with the same transaction ID.
  public static func events(_ text: String, now: Date, calendar: Calendar = .current) -> [BootEvent] {
    let year = calendar.component(.year, from: now)
    var events: [(xid: String?, event: BootEvent)] = []
    var vendors: [String: String] = [:]
    var models: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let parsed = parse(line, year: year, now: now, calendar: calendar) else { continue }
      switch parsed {
      case .event(let xid, let event): events.append((xid, event))
      case .vendor(let xid, let vendor): vendors[xid] = vendor
      case .model(let xid, let model): models[xid] = model
      }
    }
    return events.map { entry in
      var event = entry.event
      if let xid = entry.xid, let vendor = vendors[xid] { event.vendorClass = vendor }
      if let xid = entry.xid, let model = models[xid] { event.model = model }
      return event
    }
  }

  enum Parsed {
    case event(String?, BootEvent)
    case vendor(String, String)
    case model(String, String)
  }

  static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  static func parse(_ line: Substring, year: Int, now: Date, calendar: Calendar) -> Parsed? {
    // "Nov 22 05:29:03 dnsmasq-dhcp[1929]: 123 PXE(eth0) b8:27:eb:00:00:01 proxy"
    // The log quotes what machines on the LAN sent (vendor classes, host names, file names).
    let line = TerminalText.escaped(String(line.prefix(2048)))
    guard let colon = line.range(of: "]: "), line.count > 16 else { return nil }
    guard let time = date(line.prefix(15), year: year, now: now, calendar: calendar) else { return nil }
    var words = line[colon.upperBound...].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    var xid: String?
    if let first = words.first, first.allSatisfy(\.isNumber) {
      xid = first
      words.removeFirst()
    }
    guard let first = words.first else { return nil }
    if first == "vendor", words.count >= 3, words[1] == "class:", let xid {
      return .vendor(xid, String(words[2...].joined(separator: " ").prefix(200)))
    }
    // With log-dhcp dnsmasq logs the options it sends, option 97 echoed back among them (cut
    // after 14 bytes: enough for the marker and the board revision, not the serial).
    if first == "sent", words.count >= 7, words[3] == "option:", words[4] == "97", let xid {
      let hex = words[6].hasSuffix("...") ? String(words[6].dropLast(3)) : words[6]
      let bytes = hex.split(separator: ":").compactMap { UInt8($0, radix: 16) }
      guard bytes.count >= 9, bytes[0] == 0, ["RPi4", "RPi5"].contains(String(decoding: bytes[1..<5], as: UTF8.self)),
        let model = PiClientID.model(revision: bytes[5..<9].reduce(0) { $0 << 8 | UInt32($1) })
      else { return nil }
      return .model(xid, model.rawValue)
    }
    if first.hasPrefix("PXE("), words.count >= 2, let mac = MACAddress(words[1]) {
      return .event(
        xid, BootEvent(time: time, kind: .pxe, mac: mac.description, detail: words.dropFirst(2).joined(separator: " ")))
    }
    if first.hasPrefix("DHCPDISCOVER("), words.count >= 2 {
      // "DHCPDISCOVER(eth0) MAC" or "DHCPDISCOVER(eth0) IP MAC" when the client asks for an address.
      guard let mac = words.dropFirst().compactMap({ MACAddress($0) }).first else { return nil }
      return .event(xid, BootEvent(time: time, kind: .discover, mac: mac.description))
    }
    if first.hasPrefix("DHCPACK("), words.count >= 3, let ip = IPv4Address(words[1]), let mac = MACAddress(words[2]) {
      return .event(xid, BootEvent(time: time, kind: .lease, mac: mac.description, ip: ip.description))
    }
    if first == "sent", words.count >= 4, words[words.count - 2] == "to", let ip = IPv4Address(words[words.count - 1]) {
      return .event(
        nil, BootEvent(time: time, kind: .tftpSent, ip: ip.description, path: words[1..<(words.count - 2)].joined(separator: " "))
      )
    }
    if first == "file", words.count >= 6, words.suffix(4).dropLast().elementsEqual(["not", "found", "for"]),
      let ip = IPv4Address(words[words.count - 1])
    {
      return .event(
        nil,
        BootEvent(time: time, kind: .tftpMissing, ip: ip.description, path: words[1..<(words.count - 4)].joined(separator: " ")))
    }
    return nil
  }

  /// `Nov 22 05:29:03` (`%b %e %H:%M:%S`) in `calendar`'s time zone.
  static func date(_ text: Substring, year: Int, now: Date, calendar: Calendar) -> Date? {
    let parts = text.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count == 3, let month = months.firstIndex(of: String(parts[0])), let day = Int(parts[1]) else { return nil }
    let clock = parts[2].split(separator: ":").compactMap { Int($0) }
    guard clock.count == 3 else { return nil }
    var components = DateComponents(year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: clock[2])
    guard let date = calendar.date(from: components) else { return nil }
    if date.timeIntervalSince(now) > 86400 {
      components.year = year - 1
      return calendar.date(from: components)
    }
    return date
  }
}
