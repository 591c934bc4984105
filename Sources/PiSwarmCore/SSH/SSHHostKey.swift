import Crypto
import Foundation

/// An ed25519 public key line as OpenSSH writes it (`ssh-ed25519 BASE64 [comment]`), parsed
/// strictly: it may come from a node's root, which the node writes. Exactly one line, fields split
/// on any whitespace, no control characters, and a blob that decodes to the string `ssh-ed25519`
/// followed by a 32-byte key. Only `type blob` ever reaches a known_hosts line.
public struct SSHHostKey: Hashable, Sendable {
  public static let type = "ssh-ed25519"

  /// The key blob, in base64 as OpenSSH writes it.
  public let blob: String
  /// The comment (`root@node01`), possibly empty.
  public let comment: String

  /// Parses `text`; throws with what is wrong (never echoing the text, which may hold anything).
  public init(parsing text: String) throws(PiSwarmError) {
    if let problem = Self.problem(text) {
      throw PiSwarmError(.invalidInput, "not an ed25519 public key line: \(problem)")
    }
    let fields = Self.fields(text)
    blob = fields[1]
    comment = fields.dropFirst(2).joined(separator: " ")
  }

  /// What is wrong with `text` as a public key line, or nil.
  public static func problem(_ text: String) -> String? {
    var line = Substring(text)
    if line.hasSuffix("\n") { line = line.dropLast() }
    if line.contains("\n") || line.contains("\r") { return "more than one line" }
    if line.unicodeScalars.contains(where: { $0 != "\t" && Self.isControl($0) }) { return "it holds control characters" }
    let fields = fields(String(line))
    guard fields.count >= 2 else { return "it has \(fields.count) field(s), not a type and a key" }
    guard fields[0] == type else { return "the type is not \(type)" }
    guard let bytes = Data(base64Encoded: fields[1]), bytes.base64EncodedString() == fields[1] else {
      return "the key is not base64"
    }
    let name = Array(type.utf8)
    let expected: [UInt8] = [0, 0, 0, UInt8(name.count)] + name + [0, 0, 0, 32]
    guard bytes.count == expected.count + 32, Array(bytes.prefix(expected.count)) == expected else {
      return "the key is not a 32-byte ed25519 key"
    }
    return nil
  }

  static func fields(_ text: String) -> [String] {
    text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
  }

  /// C0 and C1 control characters and DEL.
  public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
  }

  /// `ssh-ed25519 BLOB comment\n`, as in a `.pub` file.
  public var publicKeyLine: String { "\(Self.type) \(blob)" + (comment.isEmpty ? "" : " \(comment)") + "\n" }

  /// The line pinning this key for `host` in a known_hosts file: host, type, key; nothing else.
  public func knownHostsLine(host: String) -> String { "\(host) \(Self.type) \(blob)" }

  /// `SHA256:…` as `ssh-keygen -l -E sha256` prints it: the digest of the blob, base64 without
  /// padding.
  public var fingerprint: String {
    let bytes = Data(base64Encoded: blob) ?? Data()
    let digest = Data(SHA256.hash(data: bytes)).base64EncodedString()
    return "SHA256:" + digest.trimmingCharacters(in: CharacterSet(charactersIn: "="))
  }

  /// Whether two keys are the same key (comments aside).
  public func sameKey(as other: SSHHostKey) -> Bool { blob == other.blob }
}
