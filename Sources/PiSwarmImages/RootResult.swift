import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What happened to one node's root.
public struct RootResult: Codable, Sendable, Equatable {
  public var node: String
  public var image: String
  public var method: RootMethod
  public var path: String
  /// True when the root was made now, false when it existed and was left alone.
  public var created: Bool
  /// Identity files that were (re)written, paths inside the root.
  public var changed: [String]
  /// The pinned host key's fingerprint (`SHA256:…`).
  public var hostKeyFingerprint: String
  public var seconds: Double
  /// What the node's root holds that piswarm did not put there and left alone (a host key that
  /// is not the pinned one).
  public var warnings: [String] = []
}
