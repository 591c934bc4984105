/// Text that came from outside (a DHCP packet, a node, an image's os-release) made safe to put on
/// a terminal: control characters cannot move the cursor, clear lines, retitle the window or
/// reorder what follows. They become visible escapes instead: `\t`, `\n`, `\r`, `\x1b`, `\u{202e}`.
///
/// Escaped are the C0 controls, DEL and the C1 controls (all of Unicode's `Cc`), the
/// bidirectional formatting characters (overrides, embeddings, isolates and marks) and the line
/// and paragraph separators. A backslash is left as it is, so escaping twice changes nothing:
/// the result is for eyes, not for parsing back.
public enum TerminalText {
  /// One value, on one line: line breaks and tabs are escaped too.
  public static func escaped(_ text: String) -> String { escape(text, keeping: []) }

  /// Lines of output: like `escaped`, but line feeds and tabs stay.
  public static func lines(_ text: String) -> String { escape(text, keeping: ["\n", "\t"]) }

  /// JSON as `JSONEncoder` writes it (which escapes only U+0000–U+001F): the other characters
  /// above become `\u` escapes, valid inside a JSON string, so the text stays the same JSON.
  public static func json(_ text: String) -> String {
    // Below U+0020 there is only the encoder's own layout (line feeds, spaces between tokens).
    func rewritten(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x20 && needsEscape(scalar) }
    guard text.unicodeScalars.contains(where: rewritten) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      guard rewritten(scalar) else {
        out.append(scalar)
        continue
      }
      out.append(contentsOf: "\\u\(hex(scalar.value, width: 4))".unicodeScalars)
    }
    return String(out)
  }

  /// Whether `scalar` is one that `escaped` rewrites.
  public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: true
    // Arabic letter mark, LRM/RLM, LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI.
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
    // Line and paragraph separators: line breaks to some terminals and editors.
    case 0x2028, 0x2029: true
    default: false
    }
  }

  static func escape(_ text: String, keeping kept: Set<Unicode.Scalar>) -> String {
    guard text.unicodeScalars.contains(where: { needsEscape($0) && !kept.contains($0) }) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      guard needsEscape(scalar), !kept.contains(scalar) else {
        out.append(scalar)
        continue
      }
      out.append(contentsOf: visible(scalar).unicodeScalars)
    }
    return String(out)
  }

  /// `\t`, `\n`, `\r`, `\x1b` (up to U+00FF), `\u{202e}`.
  static func visible(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\t": return "\\t"
    case "\n": return "\\n"
    case "\r": return "\\r"
    default:
      return scalar.value <= 0xFF ? "\\x\(hex(scalar.value, width: 2))" : "\\u{\(hex(scalar.value, width: 4))}"
    }
  }

  static func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}

extension String {
  /// This text with every terminal control made visible (see `TerminalText.escaped`).
  public var terminalSafe: String { TerminalText.escaped(self) }
}
