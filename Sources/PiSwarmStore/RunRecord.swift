import Foundation
import GRDB
import PiSwarmCore

public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "runs"
  public var id: Int64?
  public var command: String
  public var pid: Int32
  public var status: RunStatus
  public var startedAt: Date
  public var endedAt: Date?

  enum CodingKeys: String, CodingKey {
    case id, command, pid, status
    case startedAt = "started_at"
    case endedAt = "ended_at"
  }
}
