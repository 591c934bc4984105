/// Which bytes of a disk image must reach the card, decided while the image streams by (like
/// bmaptool's block map, but read from the image itself): the partition table and everything
/// outside partitions, an ext4 partition's metadata and the blocks its block bitmaps mark used, a
/// FAT partition's reserved area, FATs and root directory and the clusters its first FAT marks
/// used, and all of any other partition. What a map has not seen yet counts as used: the
/// bitmaps and FATs come before the blocks they describe in mke2fs's and mkfs.vfat's layouts,
/// and a layout that breaks that only costs writes, never data.
///
/// Feed every byte of the image in order with `observe`, then ask `used` about the same bytes.
public struct AllocationMap: Sendable {
  /// How finely extents are cut: writes are whole aligned units of this many bytes.
  public static let unit: UInt64 = 4096
  /// Gaps up to this size between used extents are written too: fewer, larger writes.
  public static let mergeGap: UInt64 = 256 << 10

  var partitions: [PartitionMap]

  public init(partitions: [MBR.Partition]) {
    self.partitions = partitions.map { partition in
      if partition.isLinux { return PartitionMap(partition, .ext4(Ext4Map(offset: partition.offset))) }
      if partition.isFAT { return PartitionMap(partition, .fat(FATMap(offset: partition.offset))) }
      return PartitionMap(partition, .whole)
    }
  }

  /// Takes what it needs (superblocks, descriptors, bitmaps, FATs) from image bytes at `offset`.
  public mutating func observe(offset: UInt64, bytes: UnsafeRawBufferPointer) {
    let range = offset..<(offset + UInt64(bytes.count))
    for index in partitions.indices where partitions[index].range.overlaps(range) {
      partitions[index].observe(offset: offset, bytes: bytes)
    }
  }

  /// The parts of `range` to write, aligned outward to `unit` (clamped to `range`), merged
  /// across small gaps, in order.
  public func used(_ range: Range<UInt64>) -> [Range<UInt64>] {
    var pieces: [Range<UInt64>] = []
    var cursor = range.lowerBound
    for partition in partitions.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
      let inside = partition.range.clamped(to: range)
      guard !inside.isEmpty else { continue }
      if cursor < inside.lowerBound { pieces.append(cursor..<inside.lowerBound) }
      pieces += partition.used(inside)
      cursor = max(cursor, inside.upperBound)
    }
    if cursor < range.upperBound { pieces.append(cursor..<range.upperBound) }
    return Self.merge(pieces, within: range)
  }

  /// Aligns pieces outward to `unit`, clamps them to `range`, joins overlapping and close ones.
  static func merge(_ pieces: [Range<UInt64>], within range: Range<UInt64>) -> [Range<UInt64>] {
    var merged: [Range<UInt64>] = []
    for piece in pieces.sorted(by: { $0.lowerBound < $1.lowerBound }) where !piece.isEmpty {
      let lower = max(range.lowerBound, piece.lowerBound / unit * unit)
      let upper = min(range.upperBound, (piece.upperBound + unit - 1) / unit * unit)
      if let last = merged.last, lower <= last.upperBound + mergeGap {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, upper)
      } else {
        merged.append(lower..<upper)
      }
    }
    return merged
  }
}

/// One partition's allocation, by its filesystem.
struct PartitionMap: Sendable {
  enum Kind: Sendable {
    case ext4(Ext4Map)
    case fat(FATMap)
    case whole
  }

  let range: Range<UInt64>
  var kind: Kind

  init(_ partition: MBR.Partition, _ kind: Kind) {
    range = partition.offset..<partition.end
    self.kind = kind
  }

  mutating func observe(offset: UInt64, bytes: UnsafeRawBufferPointer) {
    switch kind {
    case .ext4(var map):
      map.observe(offset: offset, bytes: bytes)
      kind = .ext4(map)
    case .fat(var map):
      map.observe(offset: offset, bytes: bytes)
      kind = .fat(map)
    case .whole: break
    }
  }

  func used(_ range: Range<UInt64>) -> [Range<UInt64>] {
    switch kind {
    case .ext4(let map): map.used(range)
    case .fat(let map): map.used(range)
    case .whole: [range]
    }
  }
}

/// Bytes wanted from a stream at known absolute offsets, gathered piece by piece.
struct Capture: Sendable {
  let range: Range<UInt64>
  var bytes: [UInt8]
  var filled: UInt64 = 0

  init(_ range: Range<UInt64>) {
    self.range = range
    bytes = [UInt8](repeating: 0, count: Int(range.count))
  }

  var isComplete: Bool { filled >= UInt64(range.count) }

  /// Copies the overlap of `bytes` at `offset`; stream order means each byte comes once.
  mutating func take(offset: UInt64, bytes source: UnsafeRawBufferPointer) {
    let overlap = range.clamped(to: offset..<(offset + UInt64(source.count)))
    guard !overlap.isEmpty else { return }
    let from = Int(overlap.lowerBound - offset)
    let to = Int(overlap.lowerBound - range.lowerBound)
    let count = overlap.count
    bytes.withUnsafeMutableBytes { target in
      UnsafeMutableRawBufferPointer(rebasing: target[to..<(to + count)])
        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from..<(from + count)]))
    }
    filled += UInt64(count)
  }
}

extension Array where Element == UInt8 {
  func le16(_ at: Int) -> UInt64 { UInt64(self[at]) | UInt64(self[at + 1]) << 8 }
  func le32(_ at: Int) -> UInt64 { le16(at) | le16(at + 2) << 16 }
}
