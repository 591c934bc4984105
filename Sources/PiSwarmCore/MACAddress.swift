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
