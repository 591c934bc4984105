/// Writing YAML text by hand, for edits that must keep the rest of a user's file as it is.
public enum YAMLText {
  /// A scalar as YAML: plain when that reads back as the same string, else double-quoted.
  public static func scalar(_ value: String) -> String {
    isSafePlain(value) ? value : quoted(value)
  }

  public static func quoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default:
        // C0, DEL and C1 are not printable in YAML: escaped, so the file reads back.
        if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
          out += "\\x" + hex2(UInt8(scalar.value))
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  static let reserved: Set<String> = [
    "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n",
  ]

  /// Letters, digits and `._/-:+` only, starting with a letter or digit, not a word YAML 1.1
  /// reads as a boolean or null, and not number-like (digits with `:` or `.` only, bar dotted quads).
  static func isSafePlain(_ value: String) -> Bool {
    guard let first = value.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
    guard !reserved.contains(value.lowercased()) else { return false }
    guard value.unicodeScalars.allSatisfy({ $0.isASCIIAlphanumeric || "._/-:+".unicodeScalars.contains($0) }) else {
      return false
    }
    if IPv4Address(value) != nil { return true }
    let numberLike = value.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ":._+-".unicodeScalars.contains($0) }
    let hexOrOctal = value.hasPrefix("0x") || value.hasPrefix("0o") || value.hasPrefix("0b")
    let exponent = value.contains(where: { $0 == "e" || $0 == "E" }) && Double(value) != nil
    return !numberLike && !hexOrOctal && !exponent
  }

  /// A flow mapping `{a: b, c: d}` with keys in order.
  public static func flowMapping(_ pairs: [(String, String)]) -> String {
    "{" + pairs.map { "\(scalar($0.0)): \(scalar($0.1))" }.joined(separator: ", ") + "}"
  }
}
