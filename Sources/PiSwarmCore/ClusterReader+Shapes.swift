import Yams

/// The shapes of YAML values: mappings with known keys, text, enums, labels.
extension ClusterReader {
  /// A mapping's entries by key, reporting unknown and non-text keys. Nil (after an error) when
  /// the node is not a mapping; an empty mapping for a null value.
  mutating func mapping(_ node: Yams.Node, _ what: String, keys: [String]) -> [String: Entry]? {
    if isNull(node) { return [:] }
    if case .alias = node {
      error(node, "\(what): YAML aliases (*name) are not supported in a cluster file; write the value out")
      return nil
    }
    guard let mapping = node.mapping else {
      error(node, "\(what) must be a mapping of keys to values, found \(kind(of: node))")
      return nil
    }
    var entries: [String: Entry] = [:]
    for (key, value) in mapping {
      guard let name = key.scalar?.string else {
        error(key, "a key in \(what) must be plain text, found \(kind(of: key))")
        continue
      }
      guard keys.contains(name) else {
        error(
          key,
          "unknown key \"\(name)\" in \(what)\(Suggestion.hint(for: name, in: keys)); known keys: \(keys.joined(separator: ", "))"
        )
        continue
      }
      entries[name] = Entry(key: key, value: value)
    }
    return entries
  }

  struct Entry {
    var key: Yams.Node
    var value: Yams.Node
  }

  /// The text of a scalar; nil (with an error) for a mapping or list, nil (silently) for null.
  mutating func text(_ node: Yams.Node?, _ what: String) -> String? {
    guard let node, !isNull(node) else { return nil }
    guard let scalar = node.scalar else {
      error(node, "\(what) must be a single value, found \(kind(of: node))")
      return nil
    }
    return scalar.string
  }

  /// A required scalar: reports a missing or empty one at `parent`.
  mutating func required(
    _ entries: [String: Entry], _ key: String, in what: String, at parent: Yams.Node, example: String
  )
    -> (String, Yams.Node)?
  {
    guard let entry = entries[key] else {
      error(parent, "\(what) needs \"\(key)\", e.g. \(key): \(example)")
      return nil
    }
    guard let value = text(entry.value, "\(what).\(key)") else {
      if isNull(entry.value) { error(entry.value, "\(what).\(key) is empty; give a value, e.g. \(key): \(example)") }
      return nil
    }
    return (value, entry.value)
  }

  mutating func enumValue<E: RawRepresentable & CaseIterable>(_ node: Yams.Node?, _ what: String, as type: E.Type) -> E?
  where E.RawValue == String {
    guard let node, let raw = text(node, what) else { return nil }
    if let value = E(rawValue: raw) { return value }
    let names = E.allCases.map(\.rawValue)
    error(node, "\(what) \"\(raw)\" is not one of \(names.joined(separator: ", "))\(Suggestion.hint(for: raw, in: names))")
    return nil
  }

  mutating func labels(_ node: Yams.Node?, _ what: String) -> [String: String] {
    guard let node, !isNull(node) else { return [:] }
    guard let mapping = node.mapping else {
      error(node, "\(what) must be a mapping of label names to values, e.g. { rack: a, zone: \"1\" }; found \(kind(of: node))")
      return [:]
    }
    var labels: [String: String] = [:]
    for (key, value) in mapping {
      guard let name = key.scalar?.string else {
        error(key, "a label name in \(what) must be plain text, found \(kind(of: key))")
        continue
      }
      if !Self.isLabelKey(name) {
        error(
          key,
          "label \"\(name)\" in \(what) is not a valid Docker label key; use letters, digits, '.', '-', '_' and '/', e.g. \"rack\" or \"com.example.zone\""
        )
      }
      if let text = text(value, "label \"\(name)\"") { labels[name] = text } else if isNull(value) { labels[name] = "" }
    }
    return labels
  }

  static func isLabelKey(_ key: String) -> Bool {
    guard let first = key.unicodeScalars.first, let last = key.unicodeScalars.last, key.count <= 255 else { return false }
    let inner = key.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "._-/".unicodeScalars.contains($0) }
    return inner && first.isASCIIAlphanumeric && last.isASCIIAlphanumeric
  }

  func isNull(_ node: Yams.Node) -> Bool {
    guard let scalar = node.scalar, scalar.style == .plain else { return false }
    return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  func kind(of node: Yams.Node) -> String {
    switch node {
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .scalar(let scalar): "\"\(scalar.string)\""
    case .alias: "an alias"
    }
  }
}
