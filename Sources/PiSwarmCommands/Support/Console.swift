import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

/// stdout for the command's output, stderr for everything else. Both go through
/// `TerminalText.lines`: much of what piswarm prints came from the LAN, from nodes or from
/// images (vendor classes, host names, os-release labels, remote output, error messages quoting
/// them), and none of it may drive the terminal. A stream whose reader went away
/// (`piswarm status | head -1`) swallows what is written to it: the run goes on.
enum Console {
  static func out(_ text: String) {
    Signals.writeAll(1, Data(TerminalText.lines(text).utf8))
  }

  static func err(_ text: String) {
    Signals.writeAll(2, Data(TerminalText.lines(text.hasSuffix("\n") ? text : text + "\n").utf8))
  }

  /// stderr as it is: terminal control of piswarm's own (the progress board, whose lines were
  /// escaped when they came in).
  static func errRaw(_ text: String) {
    Signals.writeAll(2, Data(text.utf8))
  }

  static func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    // The encoder escapes only U+0000–U+001F; C1 controls, DEL and bidi overrides get \u escapes.
    return TerminalText.json(String(decoding: try encoder.encode(value), as: UTF8.self)) + "\n"
  }
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
