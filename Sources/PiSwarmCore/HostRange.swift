/// A host range such as `node[02-10]`: a prefix, a numbered span with zero padding, a suffix.
public struct HostRange: Hashable, Sendable {
  public static let maximumCount = 4096

  public var prefix: String
  public var suffix: String
  public var first: Int
  public var last: Int
  /// Digits to pad to: the width of `first` as written when it has a leading zero, else none.
  public var width: Int

  /// Nil when `pattern` has no brackets (a single name); a failure with advice when the brackets
  /// are malformed or the range is empty.
  public static func parse(_ pattern: String) -> Result<HostRange, HostRangeError>? {
    guard let open = pattern.firstIndex(of: "["), let close = pattern.lastIndex(of: "]") else {
      if pattern.contains("[") || pattern.contains("]") {
        return .failure(.init("\"\(pattern)\" has an unmatched bracket; a range is written like node[02-10]"))
      }
      return nil
    }
    guard open < close else {
      return .failure(.init("\"\(pattern)\" is not a range; write it like node[02-10]"))
    }
    let body = pattern[pattern.index(after: open)..<close]
    let bounds = body.split(separator: "-", omittingEmptySubsequences: false)
    guard bounds.count == 2, bounds.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
      let first = Int(bounds[0]), let last = Int(bounds[1])
    else {
      return .failure(.init("\"\(pattern)\": the part in brackets must be FIRST-LAST with digits only, e.g. node[02-10]"))
    }
    let prefix = String(pattern[..<open])
    let suffix = String(pattern[pattern.index(after: close)...])
    if prefix.contains("[") || suffix.contains("]") || suffix.contains("[") {
      return .failure(.init("\"\(pattern)\" has more than one range; use one bracket pair per entry"))
    }
    guard first <= last else {
      return .failure(.init("range \"\(pattern)\" is empty: \(bounds[0]) is above \(bounds[1]); write the lower number first"))
    }
    guard last - first < maximumCount else {
      return .failure(.init("range \"\(pattern)\" has \(last - first + 1) nodes; one range holds at most \(maximumCount)"))
    }
    let width = bounds[0].first == "0" ? bounds[0].count : 0
    return .success(HostRange(prefix: prefix, suffix: suffix, first: first, last: last, width: width))
  }

  public var count: Int { last - first + 1 }

  public var names: [String] { (first...last).map(name) }

  /// Why the range's names are not host names (checked at both ends: the longest and the
  /// shortest), or nil.
  public var nameProblem: String? {
    HostName.problem(with: name(last)) ?? HostName.problem(with: name(first))
  }

  public func name(_ number: Int) -> String {
    let digits = String(number)
    let padding = String(repeating: "0", count: max(0, width - digits.count))
    return prefix + padding + digits + suffix
  }

  public struct HostRangeError: Error, Sendable, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
  }
}
