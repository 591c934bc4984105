/// An IPv4 address.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
  public var value: UInt32

  public init(_ value: UInt32) { self.value = value }

  /// Parses a dotted quad. Rejects leading zeros ("010"), which some tools read as octal.
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
      guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
        let octet = UInt32(part), octet <= 255, part.count == 1 || part.first != "0"
      else { return nil }
      value = value << 8 | octet
    }
    self.value = value
  }

  public var description: String {
    "\(value >> 24 & 255).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
  }

  public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

  /// The address `offset` after this one, or nil past 255.255.255.255.
  public func advanced(by offset: Int) -> IPv4Address? {
    let next = Int64(value) + Int64(offset)
    guard next >= 0, next <= Int64(UInt32.max) else { return nil }
    return IPv4Address(UInt32(next))
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let address = IPv4Address(text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
    }
    self = address
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
