/// One finding about an input file, located, with a message that names the offending value.
public struct Diagnostic: Hashable, Sendable {
  public enum Severity: String, Sendable, Codable {
    case error
    case warning
  }

  public var severity: Severity
  public var location: SourceLocation
  public var message: String

  public init(_ severity: Severity, at location: SourceLocation, _ message: String) {
    self.severity = severity
    self.location = location
    self.message = message
  }

  /// `FILE:LINE:COLUMN: error: MESSAGE`, the format compilers use and editors jump to.
  public func formatted(file: String) -> String {
    "\(file):\(location.line):\(location.column): \(severity.rawValue): \(message)"
  }
}

extension Array where Element == Diagnostic {
  public var hasErrors: Bool { contains { $0.severity == .error } }
  public var errors: [Diagnostic] { filter { $0.severity == .error } }
  public var warnings: [Diagnostic] { filter { $0.severity == .warning } }

  /// Sorted by place in the file, errors before warnings at the same place.
  public func sortedByLocation() -> [Diagnostic] {
    enumerated().sorted { a, b in
      if a.element.location != b.element.location { return a.element.location < b.element.location }
      return a.offset < b.offset
    }.map(\.element)
  }
}
extension Diagnostic: Error {}
