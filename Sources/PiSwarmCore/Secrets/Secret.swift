/// A credential (an SNMP community, a BMC password, a webhook token, an admin password) kept in
/// the state directory's `secrets` file and referenced from cluster.yml by name only. It never
/// prints: its description is its name, so it cannot reach output, logs or the journal by
/// string interpolation.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
  public let name: String
  /// The clear value. Pass it to the one process that needs it (on stdin or in a 0600 file,
  /// never in argv, the environment of a long-lived process, or a message).
  public let value: String

  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }

  public var description: String { "<secret \(name)>" }
  public var debugDescription: String { description }

  /// A secret's name: lowercase letters, digits, `.`, `_` and `-`, starting with a letter or
  /// digit, at most 64 characters.
  public static func isValidName(_ name: String) -> Bool {
    let lowerAlphanumeric = { (byte: UInt8) in (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
    guard let first = name.utf8.first, name.utf8.count <= 64, lowerAlphanumeric(first) else { return false }
    return name.utf8.allSatisfy {
      lowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
    }
  }
}
