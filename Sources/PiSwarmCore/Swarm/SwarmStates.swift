/// The words the Docker Engine API uses for swarm states, as types: piswarm decides on them by
/// `switch`, never by comparing text. A word the API adds later decodes as `unknown` (or, for a
/// node's own state, `error`), so an old piswarm reading a new dockerd still runs.

/// Decodes a `RawRepresentable` enum from the API's word, with a fallback for words it does not
/// know.
protocol APIWord: RawRepresentable, Codable, Sendable, Hashable where RawValue == String {
  static var unknownWord: Self { get }
}

extension APIWord {
  public init(from decoder: any Decoder) throws {
    let word = try decoder.singleValueContainer().decode(String.self)
    self = Self(rawValue: word) ?? Self.unknownWord
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// A node entry's state in the swarm's node list (`Node.Status.State`).
public enum SwarmNodeState: String, APIWord {
  case unknown, down, ready, disconnected
  static var unknownWord: Self { .unknown }
}

/// A node entry's availability (`Node.Spec.Availability`).
public enum SwarmAvailability: String, APIWord {
  case active, pause, drain, unknown
  static var unknownWord: Self { .unknown }
}

/// A task's state (`Task.Status.State`, `DesiredState`).
public enum SwarmTaskState: String, APIWord {
  case new, allocated, pending, assigned, accepted, preparing, ready, starting, running, complete, shutdown, failed
  case rejected, remove, orphaned, unknown
  static var unknownWord: Self { .unknown }
}

extension LocalSwarm.State: APIWord {
  static var unknownWord: Self { .error }
}
