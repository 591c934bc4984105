/// A stack of `cluster.yml`'s `stacks:` section: a name and its compose files, as written
/// (relative paths are relative to the cluster file's folder; the command layer resolves them).
public struct StackSpec: Hashable, Sendable {
  public var name: String
  public var files: [String]

  public init(name: String, files: [String]) {
    self.name = name
    self.files = files
  }

  /// A stack name docker accepts and piswarm can name services by: lowercase letters, digits,
  /// `_` and `-`, starting with a letter or digit, at most 40 characters (service names are
  /// `STACK_SERVICE` and must stay under 64).
  public static func isValidName(_ name: String) -> Bool {
    let lowerAlphanumeric = { (byte: UInt8) in (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
    guard let first = name.utf8.first, name.utf8.count <= 40, lowerAlphanumeric(first) else { return false }
    return name.utf8.allSatisfy { lowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
  }

  /// `files` resolved against `folder` (the cluster file's), absolute ones kept.
  public func resolvedFiles(relativeTo folder: String) -> [String] {
    files.map { $0.hasPrefix("/") ? $0 : (folder.hasSuffix("/") ? folder : folder + "/") + $0 }
  }
}
