import PiSwarmCore
import Testing

/// Which entries of the swarm's node list an earlier life of a node left at its address.
@Suite struct StaleEntryTests {
  let members = [
    SwarmMember(id: "OLD-DOWN", address: "10.0.0.12", role: .worker, state: .down),
    SwarmMember(id: "OLD-NOT-YET-DOWN", address: "10.0.0.12", role: .worker, state: .ready),
    SwarmMember(id: "NOW", address: "10.0.0.12", role: .worker, state: .ready),
    SwarmMember(id: "A-MANAGER", address: "10.0.0.12", managerAddress: "10.0.0.12", role: .manager, state: .down),
    SwarmMember(id: "ELSEWHERE", address: "10.0.0.13", role: .worker, state: .down),
  ]

  @Test func whenTheCurrentEntryIsKnownForSureEveryOtherWorkerEntryGoes() {
    let stale = SwarmMember.staleEntries(members, address: "10.0.0.12", currentID: "NOW", sure: true).map(\.id)
    #expect(stale == ["OLD-DOWN", "OLD-NOT-YET-DOWN"])
  }

  @Test func aJoiningNodeHasNoEntryOfItsOwnYet() {
    let stale = SwarmMember.staleEntries(members, address: "10.0.0.12", currentID: nil, sure: true).map(\.id)
    #expect(stale == ["OLD-DOWN", "OLD-NOT-YET-DOWN", "NOW"])
  }

  @Test func withoutCertaintyOnlyDownOnesGoAndNeverAManager() {
    let stale = SwarmMember.staleEntries(members, address: "10.0.0.12", currentID: "NOW").map(\.id)
    #expect(stale == ["OLD-DOWN"])
  }
}
