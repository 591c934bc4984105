import Yams

/// Reading `cluster.yml`: bytes in, a `Cluster` and every diagnostic out. Pure: no I/O.
public enum ClusterFile {
  public static let defaultPath = "cluster.yml"

  /// The result of decoding: the cluster when there are no errors, and all diagnostics.
  public struct Decoded: Sendable {
    public var cluster: Cluster?
    public var diagnostics: [Diagnostic]
  }

  /// Decodes raw file bytes, first checking that they are text at all.
  public static func decode(bytes: some Collection<UInt8>) -> Decoded {
    switch TextCheck.text(from: bytes) {
    case .failure(let diagnostic): return Decoded(cluster: nil, diagnostics: [diagnostic])
    case .success(let text): return decode(text: text)
    }
  }

  /// Decodes and validates cluster file text.
  public static func decode(text: String) -> Decoded {
    if text.allSatisfy({ $0.isWhitespace }) {
      return Decoded(
        cluster: nil,
        diagnostics: [
          Diagnostic(.error, at: .start, "the file is empty; run 'piswarm init' to write a starter cluster file")
        ])
    }
    let root: Yams.Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      return Decoded(cluster: nil, diagnostics: [YAMLErrors.diagnostic(for: error, in: text)])
    }
    guard let root else {
      return Decoded(
        cluster: nil,
        diagnostics: [
          Diagnostic(.error, at: .start, "the file holds only comments; run 'piswarm init' to write a starter cluster file")
        ])
    }
    var reader = ClusterReader()
    let cluster = reader.read(root)
    let diagnostics = reader.diagnostics.sortedByLocation()
    return Decoded(cluster: diagnostics.hasErrors ? nil : cluster, diagnostics: diagnostics)
  }
}

/// Checks that bytes are UTF-8 text without NUL bytes before YAML sees them.
enum TextCheck {
  static func text(from bytes: some Collection<UInt8>) -> Result<String, Diagnostic> {
    var body = Array(bytes)
    if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
    var iterator = body.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    var offset = 0
    loop: while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        if encoded.count == 1, encoded.first == 0 {
          return .failure(notText(body, offset, "a NUL byte"))
        }
        offset += encoded.count
      case .error(let length):
        _ = length
        return .failure(notText(body, offset, "bytes that are not UTF-8"))
      case .emptyInput:
        break loop
      }
    }
    return .success(String(decoding: body, as: UTF8.self))
  }

  private static func notText(_ bytes: [UInt8], _ offset: Int, _ what: String) -> Diagnostic {
    let location = location(ofByte: offset, in: bytes)
    return Diagnostic(
      .error, at: location,
      "this is not a text file (\(what) at byte \(offset)); a cluster file is YAML text: check the --file path")
  }

  /// The line and column of a byte offset, counting columns in Unicode scalars of the valid prefix.
  static func location(ofByte offset: Int, in bytes: [UInt8]) -> SourceLocation {
    let prefix = bytes.prefix(offset)
    let line = prefix.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    let lineStart = prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
    let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self).unicodeScalars.count + 1
    return SourceLocation(line: line, column: column)
  }
}

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
