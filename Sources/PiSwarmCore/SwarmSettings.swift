public struct SwarmSettings: Hashable, Sendable {
  public enum Managers: Hashable, Sendable {
    case count(Int)
    case names([String])
  }

  /// Nil means the default: 3 managers with 3 or more nodes, else 1.
  public var managers: Managers?
  public var labels: [String: String]
  public var advertise: String
  /// Swarm autolock: managers' raft keys encrypted at rest; a restarted manager stays locked
  /// until `up` unlocks it with the key it keeps in the state store.
  public var autolock = false

  public static let defaultAdvertise = "eth0"
}
