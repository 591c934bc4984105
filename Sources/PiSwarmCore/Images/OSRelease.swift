/// `/etc/os-release`: shell-style `KEY=value` lines.
public enum OSRelease {
  /// The fields of an os-release file, quotes and escapes removed.
  public static func parse(_ text: String) -> [String: String] {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let trimmed = String(line).trimmingCharacters(in: " \t\r")
      guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
      let key = String(trimmed[..<equals])
      var value = Substring(trimmed[trimmed.index(after: equals)...])
      if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote {
        value = value.dropFirst().dropLast()
      }
      var unescaped = ""
      var escaping = false
      for character in value {
        if escaping || character != "\\" {
          unescaped.append(character)
          escaping = false
        } else {
          escaping = true
        }
      }
      fields[key] = unescaped
    }
    return fields
  }

  /// PRETTY_NAME, else NAME and VERSION, else nil.
  public static func prettyName(_ text: String) -> String? {
    let fields = parse(text)
    if let pretty = fields["PRETTY_NAME"], !pretty.isEmpty { return pretty }
    if let name = fields["NAME"] { return [name, fields["VERSION"]].compactMap { $0 }.joined(separator: " ") }
    return nil
  }
}
