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
