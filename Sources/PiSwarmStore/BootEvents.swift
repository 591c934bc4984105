import Foundation
import GRDB
import PiSwarmCore

/// Boot events live in the `events` table, kind `netboot`, the event as JSON in `detail`: the
/// hook does not know node names (it runs without the cluster file), and readers match events to
/// nodes by MAC, TFTP folder and address.
extension SQLiteStateStore {
  public static let bootEventKind = "netboot"

  public func recordBootEvent(_ event: BootEvent) throws(PiSwarmError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .millisecondsSince1970
    guard let data = try? encoder.encode(event) else { throw PiSwarmError(.system, "cannot encode a boot event") }
    try recordEvent(
      EventRecord(time: event.time, node: nil, kind: Self.bootEventKind, detail: String(decoding: data, as: UTF8.self)))
  }

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
