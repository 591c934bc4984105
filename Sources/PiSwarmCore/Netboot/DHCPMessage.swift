/// A DHCP message (RFC 2131): what pi-bootrom sends as a Pi boot ROM, and what `doctor` sends to
/// find the DHCP servers on the cluster network; offers parsed back.
public struct DHCPMessage {
  public var op: UInt8 = 1
  public var xid: UInt32
  public var flags: UInt16 = 0x8000  // broadcast: we have no address yet
  public var ciaddr = IPv4Address(0)
  public var yiaddr = IPv4Address(0)
  public var siaddr = IPv4Address(0)
  public var chaddr: [UInt8]
  public var options: [(UInt8, [UInt8])] = []

  public static let cookie: [UInt8] = [99, 130, 83, 99]

  public func option(_ code: UInt8) -> [UInt8]? { options.first { $0.0 == code }?.1 }

  public var type: UInt8? { option(53)?.first }

  public func address(_ code: UInt8) -> IPv4Address? {
    guard let bytes = option(code), bytes.count >= 4 else { return nil }
    return IPv4Address(bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) })
  }

  public var bytes: [UInt8] {
    var out = [UInt8](repeating: 0, count: 236)
    out[0] = op
    out[1] = 1
    out[2] = 6
    Self.put32(&out, 4, xid)
    out[10] = UInt8(flags >> 8)
    out[11] = UInt8(flags & 0xFF)
    Self.put32(&out, 12, ciaddr.value)
    Self.put32(&out, 16, yiaddr.value)
    Self.put32(&out, 20, siaddr.value)
    for (index, byte) in chaddr.prefix(16).enumerated() { out[28 + index] = byte }
    out += Self.cookie
    for (code, value) in options { out += [code, UInt8(value.count)] + value }
    out.append(255)
    while out.count < 300 { out.append(0) }
    return out
  }

  public init(xid: UInt32, chaddr: [UInt8], options: [(UInt8, [UInt8])]) {
    self.xid = xid
    self.chaddr = chaddr
    self.options = options
  }

  public init?(_ bytes: [UInt8]) {
    guard bytes.count >= 240, Array(bytes[236..<240]) == Self.cookie else { return nil }
    op = bytes[0]
    xid = Self.get32(bytes, 4)
    flags = UInt16(bytes[10]) << 8 | UInt16(bytes[11])
    ciaddr = IPv4Address(Self.get32(bytes, 12))
    yiaddr = IPv4Address(Self.get32(bytes, 16))
    siaddr = IPv4Address(Self.get32(bytes, 20))
    chaddr = Array(bytes[28..<34])
    var index = 240
    while index < bytes.count {
      let code = bytes[index]
      if code == 255 { break }
      if code == 0 {
        index += 1
        continue
      }
      guard index + 1 < bytes.count else { break }
      let length = Int(bytes[index + 1])
      guard index + 2 + length <= bytes.count else { break }
      options.append((code, Array(bytes[(index + 2)..<(index + 2 + length)])))
      index += 2 + length
    }
  }

  /// A big-endian 32-bit word written at `at`.
  public static func put32(_ out: inout [UInt8], _ at: Int, _ value: UInt32) {
    for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * i)) }
  }

  /// The big-endian 32-bit word at `at`.
  public static func get32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
  }
}
