/// `KEY=VALUE` lines printed by a remote script.
public enum KeyValueLines {
  /// The lines whose key is in `keys`, values trimmed; empty values are dropped.
  public static func parse(_ output: String, keys: [String]) -> [String: String] {
    var facts: [String: String] = [:]
    for line in output.split(separator: "\n") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals])
      let value = String(line[line.index(after: equals)...]).trimmingCharacters(in: " \t\r")
      if keys.contains(key), !value.isEmpty { facts[key] = value }
    }
    return facts
  }
}
