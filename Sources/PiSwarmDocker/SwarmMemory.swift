import PiSwarmCore
import Synchronization

/// What swarm runs remember between runs, durably (through an interrupt, even SIGKILL): that
/// join tokens went out and are owed a rotation, and the swarm's autolock unlock key. The key
/// is a secret: never print or log it.
public protocol SwarmMemory: Sendable {
  /// Whether join tokens were sent to a node since the last rotation.
  func rotationOwed() throws(PiSwarmError) -> Bool
  func setRotationOwed(_ owed: Bool) throws(PiSwarmError)
  /// The unlock key of the swarm's managers (autolock), when piswarm keeps one.
  func unlockKey() throws(PiSwarmError) -> String?
  func setUnlockKey(_ key: String?) throws(PiSwarmError)
}

/// Memory that ends with the process: for `plan` without a state store, and for tests.
public final class InMemorySwarmMemory: SwarmMemory {
  let state: Mutex<(owed: Bool, key: String?)>

  public init(rotationOwed: Bool = false, unlockKey: String? = nil) {
    state = Mutex((rotationOwed, unlockKey))
  }

  public func rotationOwed() -> Bool { state.withLock { $0.owed } }
  public func setRotationOwed(_ owed: Bool) { state.withLock { $0.owed = owed } }
  public func unlockKey() -> String? { state.withLock { $0.key } }
  public func setUnlockKey(_ key: String?) { state.withLock { $0.key = key } }
}
