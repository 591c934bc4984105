public struct SwarmSettings: Hashable, Sendable {
  public enum Managers: Hashable, Sendable {
    case count(Int)
    case names([String])
  }

  /// Nil means the default: 3 managers with 3 or more nodes, else 1.
  public var managers: Managers?
  public var labels: [String: String]
  public var advertise: String

  public static let defaultAdvertise = "eth0"
}
