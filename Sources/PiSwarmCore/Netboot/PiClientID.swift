/// DHCP option 97 (client machine identifier) as a Pi 4/5 boot ROM sends it: 17 bytes, a type
/// byte 0, then the marker `RPi4` or `RPi5`, the board revision (big-endian), the low four bytes
/// of the MAC, and the serial's low 32 bits (big-endian): the TFTP folder the board asks for.
public struct PiClientID: Hashable, Sendable {
  /// `RPi4` or `RPi5`.
  public var marker: String
  public var revision: UInt32
  public var macLow: [UInt8]
  public var serial: UInt32

  public init(marker: String, revision: UInt32, macLow: [UInt8], serial: UInt32) {
    self.marker = marker
    self.revision = revision
    self.macLow = macLow
    self.serial = serial
  }

  /// Parses the option's value (17 bytes, or 16 without the type byte); nil for anything else,
  /// such as a PC's UUID.
  public init?(_ bytes: [UInt8]) {
    var body = bytes[...]
    if body.count == 17 {
      guard body.first == 0 else { return nil }
      body = body.dropFirst()
    }
    guard body.count == 16 else { return nil }
    let value = Array(body)
    let marker = String(decoding: value[0..<4], as: UTF8.self)
    guard marker == "RPi4" || marker == "RPi5" else { return nil }
    func word(_ at: Int) -> UInt32 { value[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
    self.init(marker: marker, revision: word(4), macLow: Array(value[8..<12]), serial: word(12))
  }

  /// The option's 17 bytes.
  public var bytes: [UInt8] {
    func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
    return [0] + Array(marker.utf8.prefix(4)) + word(revision) + macLow.prefix(4) + word(serial)
  }

  /// The serial as piswarm writes it: 8 lowercase hex digits, the TFTP folder name.
  public var serialText: String {
    let digits = String(serial, radix: 16)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }

  /// The board model from a new-style revision code (bit 23 set; type in bits 4–11).
  public var model: BoardModel? { Self.model(revision: revision) }

  public static func model(revision: UInt32) -> BoardModel? {
    guard revision & (1 << 23) != 0 else { return nil }
    switch (revision >> 4) & 0xFF {
    case 0x08: return .pi3b
    case 0x0D: return .pi3bplus
    case 0x11: return .pi4
    case 0x12: return .zero2w
    case 0x13: return .pi400
    case 0x14: return .cm4
    case 0x17: return .pi5
    case 0x18: return .cm5
    case 0x19: return .pi500
    default: return .other
    }
  }
}
