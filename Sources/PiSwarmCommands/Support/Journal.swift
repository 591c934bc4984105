import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem

/// The store and the run a mutating command is journaled as.
struct Journal {
  let store: SQLiteStateStore
  let run: Int64

  func step(node: String, _ step: String, _ status: StepStatus, started: Date, error: String? = nil) throws(PiSwarmError) {
    try self.step(node: node, step, status: status.rawValue, started: started, error: error)
  }

  /// A step whose status is free text (`up`'s list of actions taken).
  func step(node: String, _ step: String, status: String, started: Date, error: String? = nil) throws(PiSwarmError) {
    try store.recordStep(
      StepRecord(runID: run, node: node, step: step, status: status, startedAt: started, endedAt: Date(), error: error))
  }
}
