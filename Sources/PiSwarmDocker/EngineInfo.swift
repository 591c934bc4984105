// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

/// The parts of the Engine API's answers piswarm reads. Field names as the API spells them.
public struct EngineInfo: Codable, Sendable, Equatable {
  public var ID: String?
  public var Name: String
  public var ServerVersion: String
  public var Driver: String
  public var DriverStatus: [[String]]?
  public var DockerRootDir: String?
  public var Architecture: String?
  public var Swarm: SwarmInfo
  /// The daemon's clock (RFC 3339), to compare with task times the swarm set.
  public var SystemTime: String?

  /// overlay2's "Backing Filesystem" (extfs, nfs, …).
  public var backingFilesystem: String? { DriverStatus?.first { $0.first == "Backing Filesystem" }?.last }
}
