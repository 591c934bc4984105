/// A Master Boot Record partition table, as on Raspberry Pi OS images: four primary entries,
/// 512-byte sectors. Parsing is pure; it rejects GPT disks, overlapping partitions and
/// partitions that lie outside the image.
public enum MBR {
  public static let sectorSize: UInt64 = 512

  /// One primary partition entry.
  public struct Partition: Hashable, Sendable, Codable {
    /// 1…4, as `fdisk` numbers them.
    public var number: Int
    public var type: UInt8
    public var bootable: Bool
    /// First sector (LBA) and length in sectors.
    public var firstSector: UInt64
    public var sectorCount: UInt64

    public init(number: Int, type: UInt8, bootable: Bool = false, firstSector: UInt64, sectorCount: UInt64) {
      self.number = number
      self.type = type
      self.bootable = bootable
      self.firstSector = firstSector
      self.sectorCount = sectorCount
    }

    public var offset: UInt64 { firstSector * MBR.sectorSize }
    public var size: UInt64 { sectorCount * MBR.sectorSize }
    public var end: UInt64 { offset + size }

    /// FAT12/16/32 types a Raspberry Pi boot partition has (0x0b, 0x0c FAT32; 0x0e, 0x06 FAT16).
    public var isFAT: Bool { [0x0b, 0x0c, 0x0e, 0x06, 0x04, 0x01].contains(type) }
    public var isLinux: Bool { type == 0x83 }
    public var typeText: String { "0x" + (type < 16 ? "0" : "") + String(type, radix: 16) }
  }

  /// The boot (FAT) and root (Linux) partitions of a Raspberry Pi OS style image.
  public struct Layout: Hashable, Sendable {
    public var partitions: [Partition]
    public var boot: Partition
    public var root: Partition
  }

  /// Parses the first sector of a disk image. `imageSize`, when known, bounds the partitions.
  /// `name` names the image in messages.
  public static func parse(_ sector: [UInt8], imageSize: UInt64? = nil, name: String) throws(PiSwarmError) -> [Partition] {
    guard sector.count >= 512 else {
      throw PiSwarmError(
        .invalidInput, "\(name) is too short to be a disk image (\(sector.count) bytes, a partition table needs 512)",
        advice: "check that the download is complete")
    }
    guard sector[510] == 0x55, sector[511] == 0xAA else {
      throw PiSwarmError(
        .invalidInput, "\(name) has no MBR partition table (no 0x55AA signature at byte 510)",
        advice: "import a Raspberry Pi OS style disk image (.img, .img.xz, .img.gz, .img.zst), not a single filesystem or archive"
      )
    }
    var partitions: [Partition] = []
    for index in 0..<4 {
      let base = 446 + index * 16
      let type = sector[base + 4]
      let first = UInt64(littleEndian32(sector, base + 8))
      let count = UInt64(littleEndian32(sector, base + 12))
      if type == 0xEE {
        throw PiSwarmError(
          .invalidInput, "\(name) is a GPT disk (protective MBR, partition type 0xee)",
          advice: "piswarm imports MBR images as Raspberry Pi OS ships them; convert it or use such an image")
      }
      if type == 0 || count == 0 { continue }
      partitions.append(
        Partition(number: index + 1, type: type, bootable: sector[base] == 0x80, firstSector: first, sectorCount: count))
    }
    for partition in partitions {
      if partition.firstSector == 0 {
        throw PiSwarmError(
          .invalidInput, "\(name): partition \(partition.number) starts at sector 0, over the partition table",
          advice: "the partition table is damaged; download the image again")
      }
      if let imageSize, partition.end > imageSize {
        throw PiSwarmError(
          .invalidInput,
          "\(name): partition \(partition.number) ends at byte \(partition.end), beyond the image's \(imageSize) bytes",
          advice: "the image is truncated or its partition table is damaged; download it again")
      }
    }
    let sorted = partitions.sorted { $0.firstSector < $1.firstSector }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.end > b.offset {
      throw PiSwarmError(
        .invalidInput,
        "\(name): partitions \(a.number) and \(b.number) overlap (\(a.number) ends at byte \(a.end), \(b.number) starts at \(b.offset))",
        advice: "the partition table is damaged; download the image again")
    }
    return partitions
  }

  /// Parses and picks the boot and root partitions: the first FAT one and the first Linux one.
  public static func layout(_ sector: [UInt8], imageSize: UInt64? = nil, name: String) throws(PiSwarmError) -> Layout {
    let partitions = try parse(sector, imageSize: imageSize, name: name)
    let types = partitions.map { "\($0.number): \($0.typeText)" }.joined(separator: ", ")
    guard let boot = partitions.first(where: \.isFAT) else {
      throw PiSwarmError(
        .invalidInput, "\(name) has no FAT boot partition (partitions \(types.isEmpty ? "none" : types))",
        advice: "a Raspberry Pi OS image has a FAT32 boot partition (type 0x0c) and a Linux root (0x83)")
    }
    guard let root = partitions.first(where: \.isLinux) else {
      throw PiSwarmError(
        .invalidInput, "\(name) has no Linux root partition of type 0x83 (partitions \(types))",
        advice: "a Raspberry Pi OS image has a FAT32 boot partition (type 0x0c) and a Linux root (0x83)")
    }
    return Layout(partitions: partitions, boot: boot, root: root)
  }

  /// A first sector holding `partitions` (at most four): for tests and tools that build images.
  public static func encode(_ partitions: [Partition], diskSignature: UInt32 = 0x5049_5357) -> [UInt8] {
    var sector = [UInt8](repeating: 0, count: 512)
    put32(&sector, 440, diskSignature)
    for partition in partitions.prefix(4) {
      let base = 446 + (partition.number - 1) * 16
      sector[base] = partition.bootable ? 0x80 : 0
      // CHS fields unused by Linux: the "beyond CHS" marker.
      sector[base + 1] = 0xFE
      sector[base + 2] = 0xFF
      sector[base + 3] = 0xFF
      sector[base + 4] = partition.type
      sector[base + 5] = 0xFE
      sector[base + 6] = 0xFF
      sector[base + 7] = 0xFF
      put32(&sector, base + 8, UInt32(truncatingIfNeeded: partition.firstSector))
      put32(&sector, base + 12, UInt32(truncatingIfNeeded: partition.sectorCount))
    }
    sector[510] = 0x55
    sector[511] = 0xAA
    return sector
  }

  static func littleEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
  }

  static func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
  }
}
