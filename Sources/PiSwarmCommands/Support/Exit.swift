import ArgumentParser
import Foundation
import PiSwarmCore

/// Exit codes: 0 all well, 1 a runtime failure or some node failed, 64 usage or input error.
enum Exit {
  static let usage = ExitCode(64)
  static let failure = ExitCode(1)
}
