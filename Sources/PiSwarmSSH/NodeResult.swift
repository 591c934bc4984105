import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// One node's outcome of a remote command.
public struct NodeResult: Sendable, Codable, Equatable {
  public var node: String
  public var host: String
  /// How it ended.
  public var outcome: RemoteStatus
  public var exitCode: Int32?
  public var stdout: String
  public var stderr: String
  public var seconds: Double
  public var attempts: Int
  /// What it may mean and what to do, for failures.
  public var message: String?

  public var ok: Bool { outcome == .ok }
  /// The outcome as text, for tables and messages.
  public var status: String { outcome.rawValue }

  enum CodingKeys: String, CodingKey {
    case node, host, stdout, stderr, seconds, attempts, message
    case outcome = "status"
    case exitCode = "exit_code"
  }
}
