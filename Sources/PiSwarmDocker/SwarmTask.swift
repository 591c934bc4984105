// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

public struct SwarmTask: Codable, Sendable, Equatable {
  public var ID: String
  public var NodeID: String?
  public var ServiceID: String?
  /// The replica's number (replicated services); global tasks have none.
  public var Slot: Int?
  /// RFC 3339, the manager's clock.
  public var CreatedAt: String?
  public var DesiredState: SwarmTaskState?
  public var Status: TaskStatus

  public struct TaskStatus: Codable, Sendable, Equatable {
    public var State: SwarmTaskState
    /// Why it failed ("No such image: …", "no suitable node …").
    public var Err: String?
    public var Message: String?
    public var Timestamp: String?
  }
}
