// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

/// `GET /swarm`. The join tokens are secrets: never print or log this value.
public struct SwarmInspect: Codable, Sendable {
  public var ID: String
  public var Version: ObjectVersion
  public var Spec: JSONValue
  public var JoinTokens: Tokens

  public struct Tokens: Codable, Sendable {
    public var Worker: String
    public var Manager: String
  }

  /// Whether the managers' autolock is on (Spec.EncryptionConfig.AutoLockManagers).
  public var autolock: Bool { Spec["EncryptionConfig"]?["AutoLockManagers"] == .bool(true) }
}
