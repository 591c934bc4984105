/// What a power driver is asked to do.
public enum PowerVerb: String, Sendable, CaseIterable, Codable {
  case on, off, cycle, status
}

/// A node's power as its driver reports it.
public enum PowerState: String, Sendable, Codable {
  case on, off
  /// The driver answered but its answer did not say (a status pattern that matched nothing).
  case unknown
  /// The node has `power: none`: piswarm cannot switch it (reported, never silently skipped).
  case uncontrolled
}
