import Yams

/// A text as lines, with the few line operations the editor needs. Line numbers are 0-based.
struct Lines {
  var lines: [Substring]
  var trailingNewline: Bool

  init(_ text: String) {
    var split = text.split(separator: "\n", omittingEmptySubsequences: false)
    trailingNewline = text.hasSuffix("\n")
    if trailingNewline { split.removeLast() }
    lines = split
  }

  var text: String { lines.joined(separator: "\n") + (trailingNewline || lines.isEmpty ? "\n" : "") }

  /// Whether a collection is written in flow style (`[…]`, `{…}`). Yams does not report a
  /// sequence's style reliably, so look at the text where the node starts.
  func isFlow(_ node: Yams.Node) -> Bool {
    guard let mark = node.mark, mark.line - 1 < lines.count else { return false }
    let character = lines[mark.line - 1].unicodeScalars.dropFirst(mark.column - 1).first
    return character == "[" || character == "{"
  }

  func indent(_ line: Int) -> Int { lines[line].prefix { $0 == " " }.count }

  func isContent(_ line: Int) -> Bool {
    let trimmed = lines[line].drop { $0 == " " || $0 == "\t" }
    return !trimmed.isEmpty && !trimmed.hasPrefix("#")
  }

  /// The 0-based line and column of the `-` that starts a sequence item.
  func dash(before item: Yams.Node) throws(PiSwarmError) -> (line: Int, column: Int) {
    guard let mark = item.mark else { throw PiSwarmError(.system, "a node entry has no position") }
    var line = mark.line - 1
    var scalars = Array(lines[line].unicodeScalars.prefix(mark.column - 1))
    while true {
      if let index = scalars.lastIndex(of: "-"), scalars[index...].dropFirst().allSatisfy({ $0 == " " }) {
        return (line, index)
      }
      line -= 1
      guard line >= 0 else { break }
      scalars = Array(lines[line].unicodeScalars)
      if isContent(line) && !lines[line].trimmingSpaces.hasPrefix("-") { break }
    }
    throw PiSwarmError(.invalidInput, "cannot find the \"-\" of the node entry at line \(mark.line)")
  }

  /// The last content line that belongs to the item whose dash is at (`line`, `dashColumn`).
  func end(ofItemAt line: Int, dashColumn: Int) -> Int {
    var last = line
    var next = line + 1
    while next < lines.count {
      if isContent(next) {
        if indent(next) <= dashColumn { break }
        last = next
      }
      next += 1
    }
    return last
  }

  func trailingComment(_ line: Int) -> String? {
    guard let hash = lines[line].range(of: " #") else { return nil }
    return String(lines[line][lines[line].index(after: hash.lowerBound)...])
  }

  mutating func appendAtEnd(_ new: [String]) {
    if let last = lines.last, !last.trimmingSpaces.isEmpty { lines.append("") }
    lines += new.map { Substring($0) }
    trailingNewline = true
  }

  mutating func insert(_ new: [String], after line: Int) {
    lines.insert(contentsOf: new.map { Substring($0) }, at: line + 1)
    if line + 1 == lines.count - new.count { trailingNewline = true }
  }

  mutating func replace(_ line: Int, with text: String) { lines[line] = Substring(text) }

  mutating func remove(_ range: ClosedRange<Int>) { lines.removeSubrange(range) }
}
