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

/// An interface address with its prefix: `192.168.50.1/24`.
public struct IPv4Interface: Hashable, Sendable, CustomStringConvertible {
  public var address: IPv4Address
  public var prefixLength: Int

  public init(address: IPv4Address, prefixLength: Int) {
    self.address = address
    self.prefixLength = prefixLength
  }

  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPv4Address(parts[0]),
      parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]),
      (1...32).contains(length), parts[1].count <= 2
    else { return nil }
    self.init(address: address, prefixLength: length)
  }

  public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << (32 - UInt32(prefixLength)) }
  public var network: IPv4Address { IPv4Address(address.value & mask) }
  public var broadcast: IPv4Address { IPv4Address(address.value | ~mask) }
  public var netmask: IPv4Address { IPv4Address(mask) }

  public func contains(_ other: IPv4Address) -> Bool { other.value & mask == address.value & mask }

  /// Whether `other` is a usable host address here: inside the subnet, neither the network nor
  /// the broadcast address (for prefixes up to /30).
  public func isHost(_ other: IPv4Address) -> Bool {
    guard contains(other) else { return false }
    if prefixLength >= 31 { return true }
    return other != network && other != broadcast
  }

  public var description: String { "\(address)/\(prefixLength)" }
  /// `192.168.50.0/24`
  public var networkDescription: String { "\(network)/\(prefixLength)" }
}

/// An Ethernet MAC address, kept as six bytes.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var bytes: [UInt8]

  public init?(bytes: [UInt8]) {
    guard bytes.count == 6 else { return nil }
    self.bytes = bytes
  }

  /// Accepts `b8:27:eb:00:00:01` or `B8-27-EB-00-00-01`.
  public init?(_ text: some StringProtocol) {
    let separator: Character = text.contains("-") ? "-" : ":"
    let parts = text.split(separator: separator, omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
      guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16)
      else { return nil }
      bytes.append(byte)
    }
    self.bytes = bytes
  }

  /// `b8:27:eb:00:00:01`
  public var description: String { bytes.map { hex2($0) }.joined(separator: ":") }
  /// `b8-27-eb-00-00-01`: the folder name dnsmasq's `tftp-unique-root=mac` looks for.
  public var dashed: String { bytes.map { hex2($0) }.joined(separator: "-") }
  public var isMulticast: Bool { bytes[0] & 1 == 1 }

  public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

  /// The address `offset` after this one within the same 24-bit vendor prefix, or nil on overflow.
  public func advanced(by offset: Int) -> MACAddress? {
    let low = Int(bytes[3]) << 16 | Int(bytes[4]) << 8 | Int(bytes[5])
    let next = low + offset
    guard next >= 0, next <= 0xFF_FFFF else { return nil }
    return MACAddress(bytes: [bytes[0], bytes[1], bytes[2], UInt8(next >> 16 & 255), UInt8(next >> 8 & 255), UInt8(next & 255)])
  }

  /// Raspberry Pi Ltd / Foundation vendor prefixes.
  public static let raspberryPiPrefixes: Set<[UInt8]> = [
    [0xB8, 0x27, 0xEB], [0xDC, 0xA6, 0x32], [0xE4, 0x5F, 0x01], [0x28, 0xCD, 0xC1],
    [0xD8, 0x3A, 0xDD], [0x2C, 0xCF, 0x67], [0x88, 0xA2, 0x9E],
  ]
  public var isRaspberryPi: Bool { Self.raspberryPiPrefixes.contains(Array(bytes.prefix(3))) }
}

func hex2(_ byte: UInt8) -> String {
  let digits = Array("0123456789abcdef")
  return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}

/// A size such as `8G` or `512MiB`, in bytes.
public struct ByteSize: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var bytes: UInt64

  public init(bytes: UInt64) { self.bytes = bytes }

  /// Accepts a whole number with an optional unit K, M, G or T (powers of 1024), written `G`, `Gi`,
  /// `GB` or `GiB`, in any case. A bare number means bytes.
  public init?(_ text: some StringProtocol) {
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, let number = UInt64(digits) else { return nil }
    let unit = text.dropFirst(digits.count).lowercased()
    let shifts: [String: UInt64] = [
      "": 0, "b": 0, "k": 10, "ki": 10, "kb": 10, "kib": 10, "m": 20, "mi": 20, "mb": 20, "mib": 20,
      "g": 30, "gi": 30, "gb": 30, "gib": 30, "t": 40, "ti": 40, "tb": 40, "tib": 40,
    ]
    guard let shift = shifts[unit] else { return nil }
    let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
    guard !overflow else { return nil }
    bytes = value
  }

  /// The shortest exact form: `8G`, `512M`, `1536K`, `100`.
  public var description: String {
    for (suffix, shift) in [("T", UInt64(40)), ("G", 30), ("M", 20), ("K", 10)]
    where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
      return "\(bytes >> shift)\(suffix)"
    }
    return "\(bytes)"
  }

  public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
  public static func gibibytes(_ n: UInt64) -> ByteSize { ByteSize(bytes: n << 30) }
}
