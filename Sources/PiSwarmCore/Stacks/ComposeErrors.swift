import Foundation
import Yams

/// Locates the docker CLI's compose errors in the user's files, which the CLI itself does not:
/// a YAML syntax error (`yaml: line 2: …`, without the file) is found by reading each file, a
/// schema error (`services.web.deploy Additional property replicaz is not allowed`) by following
/// its path through the files, the last file that has it first (later files override). Pure.
public enum ComposeErrors {
  /// A compose file, by the path to show and its text.
  public struct File: Sendable {
    public var path: String
    public var text: String

    public init(path: String, text: String) {
      self.path = path
      self.text = text
    }
  }

  /// `FILE:LINE:COLUMN: MESSAGE` when the error can be placed, else nil.
  public static func locate(_ message: String, in files: [File]) -> String? {
    let message = message.trimmingCharacters(in: .whitespacesAndNewlines)
    for file in files {
      do {
        _ = try Yams.compose(yaml: file.text)
      } catch {
        return located(YAMLErrors.diagnostic(for: error, in: file.text), file.path)
      }
    }
    guard let space = message.firstIndex(of: " ") else { return nil }
    var path = message[..<space].split(separator: ".").map(String.init)
    guard path.first == "services" || ["networks", "volumes", "secrets", "configs"].contains(path.first ?? "") else {
      return nil
    }
    if let range = message.range(of: "Additional property "), let end = message[range.upperBound...].firstIndex(of: " ") {
      path.append(String(message[range.upperBound..<end]))
    }
    // The file that holds most of the path; of equals, the last (it overrides the others).
    var best: (file: File, mark: Yams.Mark, depth: Int)?
    for file in files {
      guard let root = try? Yams.compose(yaml: file.text), let (mark, depth) = find(path, in: root) else { continue }
      if depth >= (best?.depth ?? 2) { best = (file, mark, depth) }
    }
    guard let best else { return nil }
    return located(
      Diagnostic(.error, at: SourceLocation(line: best.mark.line, column: best.mark.column), message), best.file.path)
  }

  static func located(_ diagnostic: Diagnostic, _ path: String) -> String {
    "\(path):\(diagnostic.location.line):\(diagnostic.location.column): \(diagnostic.message)"
  }

  /// The mark of the deepest part of `path` found (a mapping's key, a list's item), and how
  /// many parts were found.
  static func find(_ path: [String], in root: Yams.Node) -> (Yams.Mark, Int)? {
    var node = root
    var found: (Yams.Mark, Int)?
    for (depth, part) in path.enumerated() {
      if let mapping = node.mapping, let pair = mapping.first(where: { $0.key.scalar?.string == part }) {
        node = pair.value
        if let mark = pair.key.mark { found = (mark, depth + 1) }
      } else if let list = node.sequence, let index = Int(part), list.indices.contains(index) {
        node = list[index]
        if let mark = node.mark { found = (mark, depth + 1) }
      } else {
        break
      }
    }
    return found
  }
}
