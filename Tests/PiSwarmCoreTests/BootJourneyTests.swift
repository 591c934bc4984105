import Foundation
import PiSwarmCore
import Testing

@Suite struct BootJourneyTests {
  static let kernelAt = Date(timeIntervalSince1970: 1_800_000_000)

  @Test func statusShowsTheFurthestPhaseFromEventsThenFromTheProbes() {
    #expect(BootJourney.phase(observed: .kernel, sshUp: false, dockerUp: false, swarmState: nil) == "kernel")
    #expect(BootJourney.since(observed: Self.kernelAt, sshUp: false) == Self.kernelAt)
    #expect(BootJourney.phase(observed: .kernel, sshUp: true, dockerUp: false, swarmState: nil) == "ssh")
    #expect(BootJourney.since(observed: Self.kernelAt, sshUp: true) == nil, "live probes have no past time")
    #expect(BootJourney.phase(observed: .kernel, sshUp: true, dockerUp: true, swarmState: "down") == "dockerd")
    #expect(BootJourney.phase(observed: nil, sshUp: true, dockerUp: true, swarmState: "ready") == "swarm-ready")
    #expect(BootJourney.phase(observed: nil, sshUp: false, dockerUp: false, swarmState: nil) == "never seen")
    #expect(BootJourney.phases.last == "swarm-ready")
  }
}
