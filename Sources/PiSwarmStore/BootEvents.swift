import Foundation
import GRDB
import PiSwarmCore

/// Boot events live in the `events` table, kind `netboot`, the event as JSON in `detail`: the
/// hook does not know node names (it runs without the cluster file), and readers match events to
/// nodes by MAC, TFTP folder and address.
extension SQLiteStateStore {
  public static let bootEventKind = "netboot"

  /// Records `event`; keeps the last `keep` boot events (about: older ones go a hundred at a time).
  public func recordBootEvent(_ event: BootEvent, keep: Int = bootEventsKept) throws(PiSwarmError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .millisecondsSince1970
    guard let data = try? encoder.encode(event) else { throw PiSwarmError(.system, "cannot encode a boot event") }
    let record = EventRecord(time: event.time, node: nil, kind: Self.bootEventKind, detail: String(decoding: data, as: UTF8.self))
    try write { db in
      try record.insert(db)
      // Bounded: every DHCP packet and TFTP file of every boot lands here. Readers look at the
      // last few thousand; older ones go, a hundred at a time.
      if db.lastInsertedRowID % 100 == 0 {
        try db.execute(
          sql: "DELETE FROM events WHERE kind = ? AND id <= ?",
          arguments: [Self.bootEventKind, db.lastInsertedRowID - Int64(keep)])
      }
    }
  }

  /// How many boot events the store keeps.
  public static let bootEventsKept = 20_000

  /// The last `limit` boot events, oldest first.
  public func bootEvents(limit: Int) throws(PiSwarmError) -> [BootEvent] {
    let records: [EventRecord]
    do {
      records = try queue.read { db in
        try EventRecord.filter(Column("kind") == Self.bootEventKind).order(Column("id").desc).limit(limit).fetchAll(db)
      }
    } catch {
      throw PiSwarmError(.system, "cannot read the state store", cause: "\(error)")
    }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .millisecondsSince1970
    return records.reversed().compactMap { try? decoder.decode(BootEvent.self, from: Data($0.detail.utf8)) }
  }
}
