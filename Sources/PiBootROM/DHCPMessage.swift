import PiSwarmCore

/// DHCP messages as the Pi boot ROM sends them, and the offers it reads.
struct DHCPMessage {
  var op: UInt8 = 1
  var xid: UInt32
  var flags: UInt16 = 0x8000  // broadcast: we have no address yet
  var ciaddr = IPv4Address(0)
  var yiaddr = IPv4Address(0)
  var siaddr = IPv4Address(0)
  var chaddr: [UInt8]
  var options: [(UInt8, [UInt8])] = []

  static let cookie: [UInt8] = [99, 130, 83, 99]

  func option(_ code: UInt8) -> [UInt8]? { options.first { $0.0 == code }?.1 }

  var type: UInt8? { option(53)?.first }

  func address(_ code: UInt8) -> IPv4Address? {
    guard let bytes = option(code), bytes.count >= 4 else { return nil }
    return IPv4Address(bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) })
  }

  var bytes: [UInt8] {
    var out = [UInt8](repeating: 0, count: 236)
    out[0] = op
    out[1] = 1
    out[2] = 6
    put32(&out, 4, xid)
    out[10] = UInt8(flags >> 8)
    out[11] = UInt8(flags & 0xFF)
    put32(&out, 12, ciaddr.value)
    put32(&out, 16, yiaddr.value)
    put32(&out, 20, siaddr.value)
    for (index, byte) in chaddr.prefix(16).enumerated() { out[28 + index] = byte }
    out += Self.cookie
    for (code, value) in options { out += [code, UInt8(value.count)] + value }
    out.append(255)
    while out.count < 300 { out.append(0) }
    return out
  }

  init(xid: UInt32, chaddr: [UInt8], options: [(UInt8, [UInt8])]) {
    self.xid = xid
    self.chaddr = chaddr
    self.options = options
  }

  init?(_ bytes: [UInt8]) {
    guard bytes.count >= 240, Array(bytes[236..<240]) == Self.cookie else { return nil }
    op = bytes[0]
    xid = get32(bytes, 4)
    flags = UInt16(bytes[10]) << 8 | UInt16(bytes[11])
    ciaddr = IPv4Address(get32(bytes, 12))
    yiaddr = IPv4Address(get32(bytes, 16))
    siaddr = IPv4Address(get32(bytes, 20))
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
}
