import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmStore

/// `SwarmMemory` in the state store: the owed token rotation and the unlock key outlive the
/// process, even one killed in the middle of a run.
struct StoredSwarmMemory: SwarmMemory {
  let store: SQLiteStateStore

  func rotationOwed() throws(PiSwarmError) -> Bool { try store.swarmValue(.rotationOwed) != nil }

  func setRotationOwed(_ owed: Bool) throws(PiSwarmError) { try store.setSwarmValue(.rotationOwed, owed ? "yes" : nil) }

  func unlockKey() throws(PiSwarmError) -> String? { try store.swarmValue(.unlockKey) }

  func setUnlockKey(_ key: String?) throws(PiSwarmError) { try store.setSwarmValue(.unlockKey, key) }
}

extension GlobalOptions {
  /// The swarm memory of an existing state store, for commands that only read (plan); nil
  /// when there is none yet.
  func existingSwarmMemory() -> StoredSwarmMemory? {
    existingStore().map { StoredSwarmMemory(store: $0) }
  }

  /// The state store when there is one (a command that only reads makes none).
  func existingStore() -> SQLiteStateStore? {
    let path = stateDirectory + "/" + SQLiteStateStore.fileName
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return try? SQLiteStateStore(path: path)
  }
}
