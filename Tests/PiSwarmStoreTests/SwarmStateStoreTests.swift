import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmTestSupport
import Testing

/// The swarm's memory in the state store: the owed rotation and the unlock key.
@Suite struct SwarmStateStoreTests {
  @Test func valuesOutliveTheStoreAndCanBeRemoved() throws {
    let dir = TemporaryDirectory()
    let store = try SQLiteStateStore(stateDirectory: dir.path)
    #expect(try store.swarmValue(.rotationOwed) == nil)
    try store.setSwarmValue(.rotationOwed, "yes")
    try store.setSwarmValue(.unlockKey, "SWMKEY-1-one")
    try store.setSwarmValue(.unlockKey, "SWMKEY-1-two")
    // Another process (the next run) sees what this one wrote.
    let again = try SQLiteStateStore(stateDirectory: dir.path)
    #expect(try again.swarmValue(.rotationOwed) == "yes")
    #expect(try again.swarmValue(.unlockKey) == "SWMKEY-1-two")
    try again.setSwarmValue(.rotationOwed, nil)
    #expect(try store.swarmValue(.rotationOwed) == nil)
  }

  @Test func theStoreIsReadableByItsOwnerOnly() throws {
    let dir = TemporaryDirectory()
    let old = umask(0o022)
    defer { umask(old) }
    let store = try SQLiteStateStore(stateDirectory: dir.path)
    try store.setSwarmValue(.unlockKey, "SWMKEY-1-secret")
    let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/" + SQLiteStateStore.fileName)
    #expect((attributes[.posixPermissions] as? Int ?? 0) & 0o077 == 0)
  }
}
