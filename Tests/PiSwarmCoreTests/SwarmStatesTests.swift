import Foundation
import PiSwarmCore
import Testing

/// Swarm states are decoded from the Engine API's words into types; a word a later dockerd adds
/// decodes as the fallback instead of failing the whole answer.
@Suite struct SwarmStatesTests {
  struct Answer: Codable {
    var local: LocalSwarm.State
    var node: SwarmNodeState
    var availability: SwarmAvailability
    var task: SwarmTaskState
  }

  @Test func knownWordsDecodeAndEncodeAsThemselves() throws {
    let json = #"{"local":"locked","node":"down","availability":"drain","task":"running"}"#
    let answer = try JSONDecoder().decode(Answer.self, from: Data(json.utf8))
    #expect(answer.local == .locked && answer.node == .down && answer.availability == .drain && answer.task == .running)
    let again = try JSONDecoder().decode(Answer.self, from: try JSONEncoder().encode(answer))
    #expect(again.local == .locked && again.node == .down && again.availability == .drain && again.task == .running)
  }

  @Test func wordsNotYetKnownFallBack() throws {
    let json = #"{"local":"resting","node":"sleeping","availability":"maintenance","task":"teleporting"}"#
    let answer = try JSONDecoder().decode(Answer.self, from: Data(json.utf8))
    #expect(answer.local == .error && answer.node == .unknown && answer.availability == .unknown && answer.task == .unknown)
  }
}
