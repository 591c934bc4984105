import Foundation
import GRDB
import PiSwarmCore

/// What piswarm remembers between runs: runs, their steps, events from nodes and services, and
/// facts observed on nodes.
public protocol StateStore: Sendable {
  func beginRun(command: String) throws(PiSwarmError) -> Int64
  func endRun(_ run: Int64, status: RunStatus) throws(PiSwarmError)
  func recordStep(_ step: StepRecord) throws(PiSwarmError)
  func recordEvent(_ event: EventRecord) throws(PiSwarmError)
  func setFacts(node: String, facts: [String: String], at time: Date) throws(PiSwarmError)
  func facts(node: String) throws(PiSwarmError) -> [FactRecord]
  func runs(limit: Int) throws(PiSwarmError) -> [RunRecord]
  func steps(run: Int64) throws(PiSwarmError) -> [StepRecord]
  func events(node: String?, limit: Int) throws(PiSwarmError) -> [EventRecord]
}
