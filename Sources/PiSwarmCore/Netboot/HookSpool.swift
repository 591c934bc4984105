import Foundation

/// Where dnsmasq's hook (`HookScript`) keeps the events it records, and how they are read back.
///
/// The hook starts no piswarm process: for each event worth keeping it appends one record to a
/// spool file with shell builtins. A record is an empty field (it ends whatever a write cut short
/// left before it), `piswarm-hook-1`, the time (`date +%s.%N`), the
/// `DNSMASQ_VENDOR_CLASS` dnsmasq set (or nothing), the number of arguments, the arguments
/// dnsmasq passed (`add MAC IP [HOST]`, `tftp SIZE IP PATH`, `arp-add MAC IP`), then `end`, each
/// field ended by a NUL byte. No argument or environment variable can hold a NUL, so a field is
/// exactly what dnsmasq passed, whatever the LAN put in it (newlines, tabs, quotes, other bytes);
/// the count and the `end` that must follow the arguments keep a record cut short (a full disk)
/// from taking the next record's fields for its own.
///
/// Bounded without a reader: the spool is two segment files (`PREFIX.0`, `PREFIX.1`) of
/// `segmentRecords` records each, and a counter (`PREFIX.count`); when one segment is full the
/// other is emptied and written next. At most the `2 × segmentRecords` newest records are kept.
public enum HookSpool {
  public static let magic = "piswarm-hook-1"
  public static let end = "end"
  /// Records per segment: two segments keep 10,000–20,000 events, as many as the state store
  /// kept when the hook wrote there.
  public static let segmentRecords = 10_000
  /// dnsmasq passes 1–4 arguments; anything beyond this is no record of the hook's.
  static let maximumArguments = 8

  /// The segment files, either of which may be the older.
  public static func segments(_ prefix: String) -> [String] { [prefix + ".0", prefix + ".1"] }
  /// The count of records written, modulo `2 × segmentRecords`: it says which segment is next.
  public static func counter(_ prefix: String) -> String { prefix + ".count" }

  /// The events in one segment's bytes, in the order they were written. A record the hook did not
  /// write whole (cut off by a full disk or a crash) is skipped, and so is one that
  /// `BootEvent.fromHook` rejects; everything it keeps is validated and escaped there, as when
  /// piswarm itself was the hook.
  public static func events(_ bytes: [UInt8]) -> [BootEvent] {
    // What follows the last NUL is a field the hook had not ended yet.
    let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast()
    let magic = Array(Self.magic.utf8)
    let end = Array(Self.end.utf8)
    var events: [BootEvent] = []
    var index = fields.startIndex
    while index < fields.endIndex {
      // magic, time, vendor class, count, count arguments, end. Anything else: look for the
      // next record from the next field on.
      guard fields[index].elementsEqual(magic), fields.endIndex - index >= 6,
        let count = Int(text(fields[index + 3])), (1...maximumArguments).contains(count),
        fields.endIndex - index >= 5 + count, fields[index + 4 + count].elementsEqual(end),
        let time = time(text(fields[index + 1]))
      else {
        index += 1
        continue
      }
      let vendor = text(fields[index + 2])
      let arguments = fields[(index + 4)..<(index + 4 + count)].map(text)
      let environment = vendor.isEmpty ? [:] : ["DNSMASQ_VENDOR_CLASS": vendor]
      if let event = BootEvent.fromHook(arguments, environment: environment, time: time) { events.append(event) }
      index += 5 + count
    }
    return events
  }

  static func text(_ field: ArraySlice<UInt8>) -> String { String(decoding: field, as: UTF8.self) }

  /// Seconds since 1970 (`date +%s.%N`), within reason.
  static func time(_ text: String) -> Date? {
    guard text.count <= 32, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let seconds = Double(text),
      seconds > 0, seconds < 32_503_680_000  // before the year 3000
    else { return nil }
    return Date(timeIntervalSince1970: seconds)
  }
}
