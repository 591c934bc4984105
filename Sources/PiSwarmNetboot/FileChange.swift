import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// One change made on disk.
public struct FileChange: Hashable, Sendable, Codable {
  public enum Action: String, Sendable, Codable {
    case created, updated, removed, linked
  }

  public var path: String
  public var action: Action

  public init(_ path: String, _ action: Action) {
    self.path = path
    self.action = action
  }
}
