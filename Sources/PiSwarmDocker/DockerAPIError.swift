/// What dockerd answered to an API call that failed: the HTTP status and dockerd's message. The
/// cause of the `PiSwarmError` a failed call throws, so that callers decide on it by type.
public struct DockerAPIError: Error, Sendable, CustomStringConvertible, Equatable {
  public var status: Int
  public var message: String

  public init(status: Int, message: String) {
    self.status = status
    self.message = message
  }

  public var description: String { message }

  /// A swarm object changed between its read and this update (swarmkit's "update out of
  /// sequence", which dockerd passes on as HTTP 500 with no code of its own): read it again.
  public var isOutOfSequence: Bool { status == 500 && message.contains("update out of sequence") }

  /// `swarm init` or `join` on a node that is in a swarm already (HTTP 503 "This node is already
  /// part of a swarm").
  public var isAlreadyInSwarm: Bool { message.contains("already part of a swarm") }
}
