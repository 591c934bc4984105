import Foundation
import GRDB
import PiSwarmCore

public struct FactRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "node_facts"
  public var node: String
  public var name: String
  public var value: String
  public var observedAt: Date

  enum CodingKeys: String, CodingKey {
    case node, name, value
    case observedAt = "observed_at"
  }
}
