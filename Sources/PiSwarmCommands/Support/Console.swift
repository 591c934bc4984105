import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

/// stdout for the command's output, stderr for everything else. A stream whose reader went
/// away (`piswarm status | head -1`) swallows what is written to it: the run goes on.
enum Console {
  static func out(_ text: String) {
    Signals.writeAll(1, Data(text.utf8))
  }

  static func err(_ text: String) {
    Signals.writeAll(2, Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
  }

  /// stderr as it is (progress lines, terminal control).
  static func errRaw(_ text: String) {
    Signals.writeAll(2, Data(text.utf8))
  }

  static func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
  }
}

/// Exit codes: 0 all well, 1 a runtime failure or some node failed, 64 usage or input error.
enum Exit {
  static let usage = ExitCode(64)
  static let failure = ExitCode(1)
}

extension PiSwarmError {
  /// Prints this error to stderr and returns the exit code for it.
  func report() -> ExitCode {
    Console.err("error: \(self)")
    switch code {
    case .invalidInput, .notFound, .exists: return Exit.usage
    case .system, .locked: return Exit.failure
    }
  }
}

/// Runs a command body, turning piswarm errors into a message and an exit code.
func reporting(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as PiSwarmError {
    throw error.report()
  }
}
