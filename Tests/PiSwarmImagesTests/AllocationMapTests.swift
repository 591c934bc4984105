import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// The allocation map decides from the streamed image alone which bytes a card needs. Proved on
/// images made by the real tools (mkfs.vfat, mcopy, mkfs.ext4 -d): a "card" full of an old
/// pattern gets only the chosen bytes, and its filesystems check clean and hold every file.
@Suite(
  .enabled(if: ["mkfs.vfat", "mkfs.ext4", "mcopy", "e2fsck", "debugfs", "fsck.vfat"].allSatisfy { Command.resolve($0) != nil }))
struct AllocationMapTests {
  let folder = TemporaryDirectory("piswarm-allocation")

  /// Chunks of 4 MiB (the burner's) and of an odd size (captures split across chunks).
  @Test(arguments: [4 << 20, 999_999])
  func aCardWithOnlyTheUsedBytesIsComplete(chunk: Int) throws {
    let image = folder.file("disk.img")
    try TestImage.make(at: image, scratch: folder.file("parts"), rootMiB: 96)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
    let partitions = try MBR.parse(Array(bytes.prefix(512)), name: "disk.img")
    var map = AllocationMap(partitions: partitions)
    var card = Data(repeating: 0xA5, count: bytes.count)
    var written = 0
    var offset = 0
    bytes.withUnsafeBytes { raw in
      while offset < raw.count {
        let count = min(chunk, raw.count - offset)
        let slice = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count)])
        map.observe(offset: UInt64(offset), bytes: slice)
        for piece in map.used(UInt64(offset)..<UInt64(offset + count)) {
          #expect(chunk % 4096 != 0 || piece.lowerBound % 4096 == 0)
          let range = Int(piece.lowerBound)..<Int(piece.upperBound)
          card.replaceSubrange(range, with: bytes[range])
          written += range.count
        }
        offset += count
      }
    }
    #expect(written < bytes.count / 3, "wrote \(written) of \(bytes.count)")
    for (index, partition) in partitions.enumerated() {
      let part = folder.file("part\(index)")
      try card[Int(partition.offset)..<Int(partition.end)].write(to: URL(fileURLWithPath: part))
      if partition.isFAT {
        let check = try Command("fsck.vfat", ["-n", part]).run()
        #expect(check.status == 0, "\(check.stdoutText)")
        let config = try Command("mtype", ["-i", part, "::config.txt"], environment: ["MTOOLS_SKIP_CHECK": "1"]).check()
        #expect(config.stdoutText == "arm_64bit=1\nenable_uart=1\n")
      } else {
        let check = try Command("e2fsck", ["-fn", part]).run()
        #expect(check.status == 0, "\(check.stdoutText)")
        let readme = try Command("debugfs", ["-R", "cat /usr/share/doc/readme", part]).check()
        #expect(readme.stdoutText == String(repeating: "piswarm test image\n", count: 2000))
      }
    }
  }

  /// Unknown partitions and bytes outside partitions are written whole; an unreadable
  /// filesystem counts as all used.
  @Test func whatItCannotReadIsWritten() {
    let partitions = [
      MBR.Partition(number: 1, type: 0x0c, firstSector: 2048, sectorCount: 2048),
      MBR.Partition(number: 2, type: 0x07, firstSector: 4096, sectorCount: 2048),
    ]
    var map = AllocationMap(partitions: partitions)
    let garbage = [UInt8](repeating: 0x11, count: 3 << 20)
    garbage.withUnsafeBytes { map.observe(offset: 0, bytes: $0) }
    #expect(map.used(0..<(3 << 20)) == [0..<(3 << 20)])
  }
}
