import Foundation
import GRDB
import PiSwarmCore

public struct EventRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "events"
  public var id: Int64?
  public var time: Date
  public var node: String?
  public var kind: String
  public var detail: String

  public init(id: Int64? = nil, time: Date, node: String?, kind: String, detail: String) {
    self.id = id
    self.time = time
    self.node = node
    self.kind = kind
    self.detail = detail
  }
}
