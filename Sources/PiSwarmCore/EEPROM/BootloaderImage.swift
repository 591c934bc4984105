import Crypto
import Foundation

/// A Raspberry Pi 4/5 bootloader EEPROM image (`pieeprom-*.bin`, 512 KiB on Pi 4, 2 MiB on
/// Pi 5) and the one file in it piswarm changes: `bootconf.txt`, the boot configuration.
///
/// The image is a chain of sections, each 8-byte aligned: a big-endian 32-bit magic (its masked
/// bits 0x55aaf00f), a big-endian 32-bit length, then `length` bytes. A modifiable file's
/// section (magic 0x55aaf11f) holds a 12-byte name (NUL-padded), 4 reserved bytes and the
/// file. A section whose magic is 0 or all ones ends the chain. The first 64 KiB are read-only
/// (the boot code); the configuration is the `bootconf.txt` after them (in a Pi 5's A/B image,
/// the one in the first partition). Replacing it rewrites its length and bytes, pads with 0xff
/// to 8 bytes and then up to the next section that is not padding, marking that space as a
/// padding section (magic 0x55aafeef) unless the file is the last section; the last 4 KiB, the
/// bootloader's scratch page, is never written — the way Raspberry Pi's own
/// `rpi-eeprom-config` writes it (byte for byte: see RealEEPROMImageTests).
public struct BootloaderImage: Sendable, Equatable {
  public private(set) var bytes: [UInt8]

  static let sizes = [512 * 1024, 2 * 1024 * 1024]
  static let magic: UInt32 = 0x55aa_f00f
  static let magicMask: UInt32 = 0xffff_f00f
  static let fileMagic: UInt32 = 0x55aa_f11f
  static let padMagic: UInt32 = 0x55aa_feef
  static let nameLength = 12
  /// Magic, length, name, reserved word.
  static let fileHeader = 24
  /// The bootloader's scratch page at the end of the image.
  static let scratch = 4096
  /// The read-only boot code, and the first partition after it (where `bootconf.txt` is).
  static let readOnly = 64 * 1024
  static let partition = 988 * 1024
  /// The most bytes of configuration the bootloader (and `vcgencmd bootloader_config`) takes.
  public static let maxConfigSize = 2024
  public static let configName = "bootconf.txt"

  struct Section: Equatable {
    var magic: UInt32
    var offset: Int
    var length: Int
    var name: String?
  }

  let sections: [Section]

  /// Parses `bytes`; throws when it is not an image of the expected size and shape.
  public init(_ bytes: [UInt8]) throws(PiSwarmError) {
    guard Self.sizes.contains(bytes.count) else {
      throw PiSwarmError(
        .invalidInput, "a bootloader image is 524288 (Pi 4) or 2097152 (Pi 5) bytes, not \(bytes.count)",
        advice: "give a pieeprom-*.bin from Raspberry Pi's rpi-eeprom releases")
    }
    self.bytes = bytes
    var sections: [Section] = []
    var offset = 0
    while offset + 8 <= bytes.count {
      let magic = Self.word(bytes, offset)
      if magic == 0 || magic == 0xffff_ffff { break }
      guard magic & Self.magicMask == Self.magic else {
        throw PiSwarmError(
          .invalidInput,
          "the bootloader image is corrupted: no section header at offset \(offset) (0x\(String(magic, radix: 16)))",
          advice: "download the pieeprom-*.bin again")
      }
      let length = Int(Self.word(bytes, offset + 4))
      var name: String?
      if magic == Self.fileMagic, offset + 8 + Self.nameLength <= bytes.count {
        name = String(decoding: bytes[(offset + 8)..<(offset + 8 + Self.nameLength)].prefix { $0 != 0 }, as: UTF8.self)
      }
      sections.append(Section(magic: magic, offset: offset, length: length, name: name))
      offset = (offset + 8 + length + 7) & ~7
    }
    self.sections = sections
    guard let (config, _, _) = configSection,
      config.length >= Self.nameLength + 4, config.offset + 8 + config.length <= bytes.count
    else {
      throw PiSwarmError(
        .invalidInput, "the bootloader image holds no \(Self.configName)",
        advice: "give a pieeprom-*.bin from Raspberry Pi's rpi-eeprom releases (not recovery.bin or a .sig)")
    }
  }

  /// The configuration's section, whether it is the last, and where the next section that is
  /// not padding starts (or the scratch page).
  var configSection: (section: Section, last: Bool, next: Int)? {
    let partition = Self.readOnly..<(Self.readOnly + Self.partition)
    guard
      let index = sections.firstIndex(where: { $0.name == Self.configName && partition.contains($0.offset) })
    else { return nil }
    var next = min(bytes.count - Self.scratch, partition.upperBound)
    if let following = sections[(index + 1)...].first(where: { $0.magic != Self.padMagic }) { next = following.offset }
    return (sections[index], index == sections.count - 1, next)
  }

  /// The boot configuration the image carries.
  public var bootConfig: String {
    guard let (section, _, _) = configSection else { return "" }
    let start = section.offset + Self.fileHeader
    return String(decoding: bytes[start..<(section.offset + 8 + section.length)], as: UTF8.self)
  }

  /// The image with `config` as its boot configuration.
  public func replacingBootConfig(_ config: String) throws(PiSwarmError) -> BootloaderImage {
    let new = Array(config.utf8)
    guard new.count <= Self.maxConfigSize else {
      throw PiSwarmError(
        .invalidInput, "the boot configuration is \(new.count) bytes; the bootloader takes at most \(Self.maxConfigSize)",
        advice: "set fewer eeprom: keys")
    }
    guard let (section, last, next) = configSection else {
      throw PiSwarmError(.invalidInput, "the bootloader image holds no \(Self.configName)")
    }
    var bytes = self.bytes
    let start = section.offset + Self.fileHeader
    guard start + new.count <= next, start + new.count <= bytes.count - Self.scratch else {
      throw PiSwarmError(
        .invalidInput,
        "the boot configuration (\(new.count) bytes) does not fit in this bootloader image's \(next - start) bytes",
        advice: "set fewer eeprom: keys")
    }
    Self.put(&bytes, section.offset + 4, UInt32(new.count + Self.nameLength + 4))
    bytes.replaceSubrange(start..<(start + new.count), with: new)
    var pad = start + new.count
    while pad % 8 != 0 {
      bytes[pad] = 0xff
      pad += 1
    }
    // Up to the next section, as padding (erased flash under a padding section's header).
    var fill = next - pad
    if fill >= 8 && !last {
      fill -= 8
      Self.put(&bytes, pad, Self.padMagic)
      Self.put(&bytes, pad + 4, UInt32(fill))
      pad += 8
    }
    for index in pad..<max(pad, min(pad + fill, bytes.count)) { bytes[index] = 0xff }
    return try BootloaderImage(bytes)
  }

  /// The image's sha256, 64 lowercase hex digits.
  public var sha256: String { SHA256.hex(bytes) }

  /// `pieeprom.sig`: the image's sha256 and the time stamp the bootloader compares with its own.
  public static func signature(_ bytes: [UInt8], timestamp: Int) -> String {
    "\(SHA256.hex(bytes))\nts: \(timestamp)\n"
  }

  static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
  }

  static func put(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
  }
}
