import Foundation

/// A small strict parser of Prometheus' text format (0.0.4), for tests (no client library: the format is small, and a strict reading catches more): every line is a
/// `# HELP`, a `# TYPE` before its family's samples, or a sample `name{labels} value`.
public enum PrometheusText {
  public struct Sample: Equatable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
  }

  public struct Failure: Error, CustomStringConvertible {
    public var line: Int
    public var text: String
    public var why: String
    public var description: String { "line \(line): \(why): \(text)" }
  }

  public static func parse(_ text: String) throws -> [Sample] {
    guard text.hasSuffix("\n") else { throw Failure(line: 0, text: "", why: "the text does not end with a line feed") }
    var samples: [Sample] = []
    var typed: Set<String> = []
    var seenSeries: Set<String> = []
    let namePattern = /[a-zA-Z_:][a-zA-Z0-9_:]*/
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
      let fail = { (why: String) in Failure(line: index + 1, text: String(line), why: why) }
      if line.hasPrefix("# HELP ") { continue }
      if line.hasPrefix("# TYPE ") {
        let parts = line.split(separator: " ")
        guard parts.count == 4, (try? namePattern.wholeMatch(in: parts[2])) != nil,
          ["gauge", "counter", "untyped", "summary", "histogram"].contains(parts[3])
        else { throw fail("bad TYPE line") }
        guard typed.insert(String(parts[2])).inserted else { throw fail("a second TYPE for the family") }
        continue
      }
      guard !line.hasPrefix("#"), !line.isEmpty else { throw fail("a comment or empty line that is neither HELP nor TYPE") }
      guard let match = try? /(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)/.wholeMatch(in: line)
      else { throw fail("not a sample") }
      let name = String(match.output.name)
      guard typed.contains(name) else { throw fail("a sample before its family's TYPE") }
      guard let value = Double(match.output.value) else { throw fail("the value is not a number") }
      var labels: [String: String] = [:]
      var rest = Substring(match.output.labels ?? "")
      while !rest.isEmpty {
        guard let pair = try? /(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\\n]|\\[\\"n])*)",?/.prefixMatch(in: rest) else {
          throw fail("bad labels")
        }
        let key = String(pair.output.key)
        guard labels[key] == nil else { throw fail("label \(key) twice") }
        labels[key] = String(pair.output.value).replacingOccurrences(of: "\\\"", with: "\"")
          .replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\\", with: "\\")
        rest = rest[pair.range.upperBound...]
      }
      let series = name + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
      guard seenSeries.insert(series).inserted else { throw fail("the same series twice") }
      samples.append(Sample(name: name, labels: labels, value: value))
    }
    return samples
  }
}
