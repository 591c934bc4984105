import Foundation
import GRDB
import PiSwarmCore

public struct StepRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "steps"
  public var id: Int64?
  public var runID: Int64
  public var node: String
  public var step: String
  public var status: String
  public var startedAt: Date
  public var endedAt: Date?
  public var error: String?

  public init(
    id: Int64? = nil, runID: Int64, node: String, step: String, status: String, startedAt: Date, endedAt: Date? = nil,
    error: String? = nil
  ) {
    self.id = id
    self.runID = runID
    self.node = node
    self.step = step
    self.status = status
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.error = error
  }

  enum CodingKeys: String, CodingKey {
    case id, node, step, status, error
    case runID = "run_id"
    case startedAt = "started_at"
    case endedAt = "ended_at"
  }
}
