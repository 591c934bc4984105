import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem

/// The store and the run a mutating command is journaled as.
struct Journal {
  let store: SQLiteStateStore
  let run: Int64

  func step(node: String, _ step: String, _ status: StepStatus, started: Date, error: String? = nil) throws(PiSwarmError) {
    try store.recordStep(
      StepRecord(
        runID: run, node: node, step: step, status: status.rawValue, startedAt: started, endedAt: Date(), error: error))
  }
}
