import Yams

/// Turns libyaml's errors into located diagnostics with advice.
enum YAMLErrors {
  static func diagnostic(for error: any Error, in text: String) -> Diagnostic {
    guard let yamlError = error as? YamlError else {
      return Diagnostic(.error, at: .start, "cannot read YAML: \(error)")
    }
    switch yamlError {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let location = SourceLocation(line: mark.line, column: mark.column)
      if let tab = tabHint(at: location, in: text) { return Diagnostic(.error, at: tab, tabMessage) }
      var message = "malformed YAML: \(problem)"
      if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
      message += advice(for: problem)
      return Diagnostic(.error, at: location, message)
    case .reader(let problem, let offset, let value, _):
      let location = offset.map { TextCheck.location(ofByte: $0, in: Array(text.utf8)) } ?? .start
      let character = value >= 0 ? " (character 0x\(String(value, radix: 16, uppercase: true)))" : ""
      return Diagnostic(
        .error, at: location, "cannot read the file: \(problem)\(character); a cluster file is plain YAML text")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
      return Diagnostic(
        .error, at: SourceLocation(line: context.mark.line, column: context.mark.column),
        "key \(keys) appears twice in the same mapping; keep one")
    default:
      return Diagnostic(.error, at: .start, "cannot read YAML: \(yamlError)")
    }
  }

  static let tabMessage = "a tab character in the indentation; YAML indents with spaces only: replace the tab with spaces"

  /// Points at the first tab in the indentation of the error's line or the line before it.
  static func tabHint(at location: SourceLocation, in text: String) -> SourceLocation? {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for line in [location.line, location.line - 1] where line >= 1 && line <= lines.count {
      let indentation = lines[line - 1].prefix { $0 == " " || $0 == "\t" }
      if let index = indentation.firstIndex(of: "\t") {
        return SourceLocation(line: line, column: indentation.distance(from: indentation.startIndex, to: index) + 1)
      }
    }
    return nil
  }

  static func advice(for problem: String) -> String {
    if problem.contains("mapping values are not allowed") {
      return "; check the indentation of this line against the lines above it, or quote a value that holds \": \""
    }
    if problem.contains("did not find expected key") || problem.contains("did not find expected '-'") {
      return "; check that this line is indented like the other keys of its block"
    }
    if problem.contains("could not find expected ':'") {
      return "; a key needs a colon after it, or a long value needs quotes"
    }
    return ""
  }
}
