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
