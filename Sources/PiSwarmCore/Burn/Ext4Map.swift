/// An ext4 filesystem's allocation, read from the stream: the superblock, then the group
/// descriptors, then each group's block bitmap as it passes. A group whose bitmap is not
/// initialized (BLOCK_UNINIT) uses only its metadata (backup superblock and descriptors, and
/// whatever bitmaps and inode tables the descriptors place in it).
struct Ext4Map: Sendable {
  struct Layout: Sendable {
    var blockSize: UInt64
    var blocks: UInt64
    var firstDataBlock: UInt64
    var blocksPerGroup: UInt64
    var groups: UInt64
    var descriptorSize: UInt64
    var descriptorBlocks: UInt64
    var reservedDescriptorBlocks: UInt64
    var inodeTableBlocks: UInt64
    var sparseSuper: Bool
    var backupGroups: [UInt64]?
  }

  let offset: UInt64
  var superblock: Capture
  var descriptors: Capture?
  var layout: Layout?
  /// The filesystem is one this map does not read (not ext2/3/4, meta_bg): all of it is used.
  var unreadable = false
  /// Groups whose bitmap is still to come, and the bitmaps that came.
  var pending: [UInt64: Capture] = [:]
  var bitmaps: [UInt64: [UInt8]] = [:]
  /// Used block ranges of BLOCK_UNINIT groups.
  var uninitialized: [UInt64: [Range<UInt64>]] = [:]

  init(offset: UInt64) {
    self.offset = offset
    superblock = Capture((offset + 1024)..<(offset + 2048))
  }

  mutating func observe(offset chunk: UInt64, bytes: UnsafeRawBufferPointer) {
    guard !unreadable else { return }
    if layout == nil && descriptors == nil {
      superblock.take(offset: chunk, bytes: bytes)
      guard superblock.isComplete else { return }
      guard let parsed = Self.parse(superblock: superblock.bytes) else {
        unreadable = true
        return
      }
      layout = parsed
      let start = offset + (parsed.firstDataBlock + 1) * parsed.blockSize
      descriptors = Capture(start..<(start + parsed.groups * parsed.descriptorSize))
    }
    if var table = descriptors, let layout {
      table.take(offset: chunk, bytes: bytes)
      descriptors = table
      guard table.isComplete else { return }
      descriptors = nil
      readDescriptors(table.bytes, layout)
    }
    for (group, var capture) in pending where capture.range.overlaps(chunk..<(chunk + UInt64(bytes.count))) {
      capture.take(offset: chunk, bytes: bytes)
      if capture.isComplete {
        pending[group] = nil
        bitmaps[group] = capture.bytes
      } else {
        pending[group] = capture
      }
    }
  }

  static func parse(superblock s: [UInt8]) -> Layout? {
    guard s.le16(56) == 0xEF53 else { return nil }
    let incompat = s.le32(96)
    let roCompat = s.le32(100)
    let compat = s.le32(92)
    let is64 = incompat & 0x80 != 0
    guard incompat & 0x10 == 0 else { return nil }  // meta_bg: descriptors spread out
    let logBlock = s.le32(24)
    guard logBlock <= 6 else { return nil }
    let blockSize = UInt64(1024) << logBlock
    let blocks = s.le32(4) | (is64 ? s.le32(336) << 32 : 0)
    let firstDataBlock = s.le32(20)
    let blocksPerGroup = s.le32(32)
    let inodesPerGroup = s.le32(40)
    let inodeSize = s.le16(88) == 0 ? 128 : s.le16(88)
    let descriptorSize = is64 ? max(32, s.le16(254)) : 32
    guard blocksPerGroup > 0, blocksPerGroup <= blockSize * 8, blocks > firstDataBlock else { return nil }
    let groups = (blocks - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup
    return Layout(
      blockSize: blockSize, blocks: blocks, firstDataBlock: firstDataBlock, blocksPerGroup: blocksPerGroup,
      groups: groups, descriptorSize: descriptorSize,
      descriptorBlocks: (groups * descriptorSize + blockSize - 1) / blockSize,
      reservedDescriptorBlocks: s.le16(206),
      inodeTableBlocks: (inodesPerGroup * inodeSize + blockSize - 1) / blockSize,
      sparseSuper: roCompat & 0x1 != 0,
      backupGroups: compat & 0x200 != 0 ? [0, s.le32(588), s.le32(592)] : nil)
  }

  /// Where each group's block bitmap is (captured as it passes), and what BLOCK_UNINIT groups use.
  mutating func readDescriptors(_ table: [UInt8], _ layout: Layout) {
    var metadata: [Range<UInt64>] = []
    var uninit: Set<UInt64> = []
    for group in 0..<layout.groups {
      let base = Int(group * layout.descriptorSize)
      let wide = layout.descriptorSize >= 64
      func location(_ at: Int, _ high: Int) -> UInt64 { table.le32(base + at) | (wide ? table.le32(base + high) << 32 : 0) }
      let blockBitmap = location(0, 0x20)
      let inodeBitmap = location(4, 0x24)
      let inodeTable = location(8, 0x28)
      let flags = table.le16(base + 18)
      metadata += [
        blockBitmap..<(blockBitmap + 1), inodeBitmap..<(inodeBitmap + 1), inodeTable..<(inodeTable + layout.inodeTableBlocks),
      ]
      if hasBackup(group, layout) {
        let start = layout.firstDataBlock + group * layout.blocksPerGroup
        metadata.append(start..<(start + 1 + layout.descriptorBlocks + layout.reservedDescriptorBlocks))
      }
      if flags & 0x2 != 0 {
        uninit.insert(group)
      } else if blockBitmap < layout.blocks {
        let start = offset + blockBitmap * layout.blockSize
        pending[group] = Capture(start..<(start + (layout.blocksPerGroup + 7) / 8))
      }
    }
    for range in metadata {
      for group in groupsOf(range, layout) where uninit.contains(group) { uninitialized[group, default: []].append(range) }
    }
    for group in uninit where uninitialized[group] == nil { uninitialized[group] = [] }
  }

  func hasBackup(_ group: UInt64, _ layout: Layout) -> Bool {
    if let backups = layout.backupGroups { return backups.contains(group) }
    guard layout.sparseSuper, group > 1 else { return true }
    for base: UInt64 in [3, 5, 7] {
      var power = base
      while power < group { power *= base }
      if power == group { return true }
    }
    return false
  }

  func groupsOf(_ range: Range<UInt64>, _ layout: Layout) -> ClosedRange<UInt64> {
    let first = (max(range.lowerBound, layout.firstDataBlock) - layout.firstDataBlock) / layout.blocksPerGroup
    let last = (max(range.upperBound - 1, layout.firstDataBlock) - layout.firstDataBlock) / layout.blocksPerGroup
    return first...max(first, last)
  }

  /// Whether block `block` holds data or metadata (true when unknown).
  func isUsed(_ block: UInt64, _ layout: Layout) -> Bool {
    guard block >= layout.firstDataBlock, block < layout.blocks else { return true }
    let group = (block - layout.firstDataBlock) / layout.blocksPerGroup
    if let ranges = uninitialized[group] { return ranges.contains { $0.contains(block) } }
    guard let bitmap = bitmaps[group] else { return true }
    let bit = (block - layout.firstDataBlock) % layout.blocksPerGroup
    return bitmap[Int(bit / 8)] & (1 << (bit % 8)) != 0
  }

  func used(_ range: Range<UInt64>) -> [Range<UInt64>] {
    guard !unreadable, let layout, descriptors == nil else { return [range] }
    let size = layout.blockSize
    var pieces: [Range<UInt64>] = []
    var runStart: UInt64?
    func mark(_ block: UInt64, _ used: Bool) {
      if used {
        if runStart == nil { runStart = block }
      } else if let start = runStart {
        pieces.append((offset + start * size)..<(offset + block * size))
        runStart = nil
      }
    }
    var block = (range.lowerBound - offset) / size
    let end = (range.upperBound - offset + size - 1) / size
    while block < end {
      // A group with a bitmap is read a byte (8 blocks) at a time where the byte is all-free
      // or all-used; everything else block by block.
      if block >= layout.firstDataBlock, block < layout.blocks {
        let group = (block - layout.firstDataBlock) / layout.blocksPerGroup
        if uninitialized[group] == nil, let bitmap = bitmaps[group] {
          let groupStart = layout.firstDataBlock + group * layout.blocksPerGroup
          let groupEnd = min(end, groupStart + layout.blocksPerGroup, layout.blocks)
          while block < groupEnd {
            let bit = block - groupStart
            let byte = bitmap[Int(bit / 8)]
            if bit % 8 == 0, block + 8 <= groupEnd, byte == 0 || byte == 0xFF {
              mark(block, byte == 0xFF)
              block += 8
            } else {
              mark(block, byte & (1 << (bit % 8)) != 0)
              block += 1
            }
          }
          continue
        }
      }
      mark(block, isUsed(block, layout))
      block += 1
    }
    if let start = runStart { pieces.append((offset + start * size)..<(offset + end * size)) }
    return pieces.map { $0.clamped(to: range) }
  }
}
