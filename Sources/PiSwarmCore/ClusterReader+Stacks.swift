import Yams

/// The `stacks:` section: stack name → a compose file or a list of them.
///
///     stacks:
///       web: [web/compose.yml, web/prod.yml]
///       monitor: monitor.yml
extension ClusterReader {
  mutating func stacks(_ entry: Entry?) -> [StackSpec] {
    guard let entry, !isNull(entry.value) else { return [] }
    if case .alias = entry.value {
      error(entry.value, "stacks: YAML aliases (*name) are not supported in a cluster file; write the value out")
      return []
    }
    guard let mapping = entry.value.mapping else {
      error(
        entry.value, "stacks must be a mapping of stack names to compose files, e.g. stacks: { web: [web/compose.yml] }")
      return []
    }
    var stacks: [StackSpec] = []
    for (key, value) in mapping {
      guard let name = key.scalar?.string else {
        error(key, "a stack name must be plain text, found \(kind(of: key))")
        continue
      }
      guard StackSpec.isValidName(name) else {
        error(
          key,
          "stack name \"\(name)\" may hold only lowercase letters, digits, '_' and '-' (at most 40, starting with a letter or digit), e.g. web"
        )
        continue
      }
      var files: [String] = []
      if let list = value.sequence {
        for item in list {
          guard let file = text(item, "a compose file of stack \(name)") else { continue }
          if let problem = Self.composeFileProblem(file) { error(item, "stack \(name): \(problem)") } else { files.append(file) }
        }
        if list.isEmpty {
          error(value, "stack \(name) names no compose file; give one or more, e.g. \(name): [\(name)/compose.yml]")
        }
      } else if let file = text(value, "stack \(name)") {
        if let problem = Self.composeFileProblem(file) { error(value, "stack \(name): \(problem)") } else { files.append(file) }
      } else if isNull(value) {
        error(value, "stack \(name) names no compose file; give one or more, e.g. \(name): [\(name)/compose.yml]")
      }
      if !files.isEmpty { stacks.append(StackSpec(name: name, files: files)) }
    }
    return stacks
  }

  /// Why `file` cannot be a compose file path, or nil.
  static func composeFileProblem(_ file: String) -> String? {
    if file.isEmpty { return "an empty compose file path" }
    if file.count > 1024 { return "a compose file path longer than 1024 characters" }
    if file.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      return "the compose file path \"\(TerminalText.escaped(file))\" holds a control character"
    }
    if file == "-" { return "\"-\" (stdin) cannot be a compose file of cluster.yml; name a file" }
    return nil
  }
}
