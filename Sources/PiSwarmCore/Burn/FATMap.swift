/// A FAT12/16/32 filesystem's allocation, read from the stream: the boot sector, then the first
/// FAT. The reserved sectors, the FATs and the root directory are always used; a data cluster
/// is used when its FAT entry is not 0. FAT12 (tiny volumes) counts as all used.
struct FATMap: Sendable {
  struct Layout: Sendable {
    var sectorSize: UInt64
    var clusterSize: UInt64
    var dataStart: UInt64
    var clusters: UInt64
    var entryBits: UInt64
  }

  let offset: UInt64
  var bootSector: Capture
  var table: Capture?
  var layout: Layout?
  var fat: [UInt8]?
  var unreadable = false

  init(offset: UInt64) {
    self.offset = offset
    bootSector = Capture(offset..<(offset + 512))
  }

  mutating func observe(offset chunk: UInt64, bytes: UnsafeRawBufferPointer) {
    guard !unreadable, fat == nil else { return }
    if layout == nil {
      bootSector.take(offset: chunk, bytes: bytes)
      guard bootSector.isComplete else { return }
      guard let (parsed, fatStart, fatBytes) = Self.parse(bootSector.bytes) else {
        unreadable = true
        return
      }
      layout = parsed
      table = Capture((offset + fatStart)..<(offset + fatStart + fatBytes))
    }
    guard var capture = table else { return }
    capture.take(offset: chunk, bytes: bytes)
    table = capture
    if capture.isComplete {
      fat = capture.bytes
      table = nil
    }
  }

  /// The layout, where the first FAT starts and how long it is (bytes from the partition's start).
  static func parse(_ b: [UInt8]) -> (Layout, UInt64, UInt64)? {
    guard b[510] == 0x55, b[511] == 0xAA else { return nil }
    let sectorSize = b.le16(11)
    let perCluster = UInt64(b[13])
    let reserved = b.le16(14)
    let fats = UInt64(b[16])
    let rootEntries = b.le16(17)
    let total = b.le16(19) != 0 ? b.le16(19) : b.le32(32)
    let fatSectors = b.le16(22) != 0 ? b.le16(22) : b.le32(36)
    guard [512, 1024, 2048, 4096].contains(sectorSize), perCluster > 0, fats > 0, fatSectors > 0, reserved > 0 else {
      return nil
    }
    let rootSectors = (rootEntries * 32 + sectorSize - 1) / sectorSize
    let dataStart = reserved + fats * fatSectors + rootSectors
    guard total > dataStart else { return nil }
    let clusters = (total - dataStart) / perCluster
    let bits: UInt64 = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32
    guard bits != 12 else { return nil }
    let layout = Layout(
      sectorSize: sectorSize, clusterSize: perCluster * sectorSize, dataStart: dataStart * sectorSize, clusters: clusters,
      entryBits: bits)
    return (layout, reserved * sectorSize, fatSectors * sectorSize)
  }

  func isUsed(cluster: UInt64, _ layout: Layout, _ fat: [UInt8]) -> Bool {
    let index = cluster + 2
    if layout.entryBits == 16 {
      let at = Int(index * 2)
      return at + 1 >= fat.count || fat.le16(at) != 0
    }
    let at = Int(index * 4)
    return at + 3 >= fat.count || fat.le32(at) & 0x0FFF_FFFF != 0
  }

  func used(_ range: Range<UInt64>) -> [Range<UInt64>] {
    guard !unreadable, let layout, let fat else { return [range] }
    let data = offset + layout.dataStart
    var pieces: [Range<UInt64>] = []
    if range.lowerBound < data { pieces.append(range.lowerBound..<min(data, range.upperBound)) }
    guard range.upperBound > data else { return pieces }
    let size = layout.clusterSize
    var cluster = (max(range.lowerBound, data) - data) / size
    let end = (range.upperBound - data + size - 1) / size
    var runStart: UInt64?
    while cluster < end {
      if cluster >= layout.clusters || isUsed(cluster: cluster, layout, fat) {
        if runStart == nil { runStart = cluster }
      } else if let start = runStart {
        pieces.append((data + start * size)..<(data + cluster * size))
        runStart = nil
      }
      cluster += 1
    }
    if let start = runStart { pieces.append((data + start * size)..<(data + end * size)) }
    return pieces.map { $0.clamped(to: range) }.filter { !$0.isEmpty }
  }
}
