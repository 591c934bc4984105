import Foundation

public struct NodeBootProgress: Hashable, Sendable, Codable {
  public struct Step: Hashable, Sendable, Codable {
    public var phase: BootPhase
    /// When it was reached; nil when inferred or not reached.
    public var time: Date?
    /// `observed`, `inferred`, `unknown` (cannot be observed here), or `not reached`.
    public var state: String
  }

  public var node: String
  public var mac: String?
  public var ip: String
  /// The furthest phase of the last boot; nil when the node was never seen.
  public var phase: BootPhase?
  public var time: Date?
  public var steps: [Step]
}
