/// How a disk image file is compressed, told by its first bytes (not its name).
public enum ImageCompression: String, Sendable, Codable, CaseIterable {
  case none
  case xz
  case gzip
  case zstd

  /// The compression of a file starting with `magic` (at least 6 bytes for xz).
  public static func detect(_ magic: [UInt8]) -> ImageCompression {
    if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
    if magic.starts(with: [0x1F, 0x8B]) { return .gzip }
    if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
    return .none
  }

  /// The decompressor writing the image to stdout from stdin, as an argument array; nil for none.
  public var decompressor: [String]? {
    switch self {
    case .none: nil
    case .xz: ["xz", "--decompress", "--stdout", "--threads=0"]
    case .gzip: ["gzip", "--decompress", "--stdout"]
    case .zstd: ["zstd", "--decompress", "--stdout", "--quiet"]
    }
  }
}

/// Names of imported images.
public enum ImageName {
  static let suffixes = [".img.xz", ".img.gz", ".img.zst", ".img.zstd", ".xz", ".gz", ".zst", ".img"]

  /// The default name of an image imported from `path`: the file name without `.img` and the
  /// compression suffix, lowercased, characters other than `a-z0-9._-` replaced by '-'.
  public static func defaultName(forFile path: String) -> String {
    var name = String(path.split(separator: "/").last ?? "")
    for suffix in suffixes where name.lowercased().hasSuffix(suffix) {
      name = String(name.dropLast(suffix.count))
      break
    }
    let mapped = String(
      name.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "-" })
    return String(mapped.drop { $0 == "." || $0 == "-" })
  }

  /// Why `name` cannot name an image, or nil: 1–100 of `a-z`, `0-9`, `.`, `_`, `-`, starting
  /// with a letter or digit (it becomes a folder name).
  public static func problem(with name: String) -> String? {
    guard !name.isEmpty else { return "an image name cannot be empty" }
    guard name.utf8.count <= 100 else { return "an image name has at most 100 characters" }
    guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else {
      return "an image name starts with a lowercase letter or a digit"
    }
    let allowed = name.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-"
    }
    return allowed ? nil : "an image name may hold only lowercase letters, digits, '.', '_' and '-'"
  }
}

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

/// A progress line for long copies: bytes done of total, a bar, a percentage.
public enum ProgressLine {
  /// E.g. `importing raspios.img.xz [#########-----------]  45%  210.3 MiB / 466.0 MiB`.
  public static func render(label: String, done: UInt64, total: UInt64, width: Int = 20) -> String {
    let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
    let filled = Int((fraction * Double(width)).rounded(.down))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let percent = String(Int((fraction * 100).rounded(.down)))
    let padded = String(repeating: " ", count: max(0, 3 - percent.count)) + percent
    return "\(label) [\(bar)] \(padded)%  \(mebibytes(done)) / \(mebibytes(total))"
  }

  /// `466.0 MiB`, one decimal.
  public static func mebibytes(_ bytes: UInt64) -> String {
    let tenths = (bytes * 10 + (1 << 19)) >> 20
    return "\(tenths / 10).\(tenths % 10) MiB"
  }
}
