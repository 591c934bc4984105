import Foundation
import PiSwarmCore
import Synchronization

/// Progress on stderr, one line per node. On a terminal the lines are redrawn in place (one
/// line per node, at most 40 nodes); otherwise each update is printed once as `NODE: TEXT`.
final class ProgressBoard: Sendable {
  private let names: [String]
  private let live: Bool
  private let state: Mutex<(lines: [String: String], drawn: Int)>

  init(nodes: [String]) {
    names = nodes
    live = isatty(STDERR_FILENO) == 1 && nodes.count <= 40 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    state = Mutex((lines: [:], drawn: 0))
  }

  /// Sets `node`'s line.
  func update(_ node: String, _ text: String) {
    let text = TerminalText.escaped(text)
    guard live else {
      Console.err("\(node): \(text)")
      return
    }
    state.withLock { state in
      state.lines[node] = text
      redraw(&state)
    }
  }

  /// `NODE: TEXT` updates that node's line; anything else is a note.
  func line(_ text: String) {
    if let colon = text.range(of: ": "), names.contains(String(text[..<colon.lowerBound])) {
      update(String(text[..<colon.lowerBound]), String(text[colon.upperBound...]))
    } else {
      note(text)
    }
  }

  /// A line that is not about one node: printed above the board.
  func note(_ text: String) {
    guard live else {
      Console.err(text)
      return
    }
    state.withLock { state in
      clear(&state)
      Console.err(text)
      redraw(&state)
    }
  }

  /// Leaves the board's last state on the screen and stops redrawing.
  func finish() {
    guard live else { return }
    state.withLock { state in state.drawn = 0 }
  }

  private func clear(_ state: inout (lines: [String: String], drawn: Int)) {
    if state.drawn > 0 { Console.errRaw("\u{1B}[\(state.drawn)A\u{1B}[J") }
    state.drawn = 0
  }

  private func redraw(_ state: inout (lines: [String: String], drawn: Int)) {
    clear(&state)
    let width = max(20, (Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100) - 1)
    let shown = names.filter { state.lines[$0] != nil }
    let pad = shown.map(\.count).max() ?? 0
    var text = ""
    for name in shown {
      let line = name.padding(toLength: pad, withPad: " ", startingAt: 0) + "  " + (state.lines[name] ?? "")
      text += String(line.prefix(width)) + "\n"
    }
    Console.errRaw(text)
    state.drawn = shown.count
  }
}
