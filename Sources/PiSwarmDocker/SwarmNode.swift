// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

public struct SwarmNode: Codable, Sendable, Equatable {
  public var ID: String
  public var Version: ObjectVersion
  public var Spec: NodeSpec
  public var Description: Description?
  public var Status: Status
  public var ManagerStatus: ManagerStatus?

  public struct NodeSpec: Codable, Sendable, Equatable {
    public var Labels: [String: String]?
    public var Role: Node.Role
    public var Availability: SwarmAvailability
  }

  public struct Description: Codable, Sendable, Equatable {
    public var Hostname: String?
    public var Platform: Platform?
    public var Engine: Engine?
  }

  public struct Platform: Codable, Sendable, Equatable {
    /// `aarch64`, `x86_64` (the kernel's word).
    public var Architecture: String?
    public var OS: String?
  }

  public struct Engine: Codable, Sendable, Equatable {
    public var Labels: [String: String]?
  }

  public struct Status: Codable, Sendable, Equatable {
    public var State: SwarmNodeState
    public var Addr: String?
  }

  public struct ManagerStatus: Codable, Sendable, Equatable {
    public var Leader: Bool?
    public var Reachability: String?
    public var Addr: String?
  }
}
