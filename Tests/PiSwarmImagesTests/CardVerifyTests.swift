import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// The read-back after a burn: a raw image is compared with the file itself and the first byte
/// that differs is named; a compressed one with the digest each chunk had when it was written.
/// The "card" here is a plain file (the same pread path as a device's cached descriptor).
@Suite struct CardVerifyTests {
  let folder = TemporaryDirectory("piswarm-verify")

  /// 5 MiB of varied bytes, written as the image and as the card.
  func files() throws -> (image: String, card: String, bytes: [UInt8]) {
    var bytes = [UInt8](repeating: 0, count: 5 << 20)
    var state: UInt32 = 7
    for index in bytes.indices {
      state = state &* 1_664_525 &+ 1_013_904_223
      bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
    }
    let image = folder.file("image.img")
    let card = folder.file("card")
    try Data(bytes).write(to: URL(fileURLWithPath: image))
    try Data(bytes).write(to: URL(fileURLWithPath: card))
    return (image, card, bytes)
  }

  /// The pieces a burn wrote: some of the first chunk, all of the second's start, a tail.
  let pieces: [[Range<UInt64>]] = [[4096..<65536, 1_048_576..<3_145_728], [4_194_304..<5_000_000]]

  func chunks(_ bytes: [UInt8], hashed: Bool) -> [CardBurner.Chunk] {
    pieces.enumerated().map { index, ranges in
      var hasher = SHA256()
      for range in ranges { hasher.update(data: bytes[Int(range.lowerBound)..<Int(range.upperBound)]) }
      return CardBurner.Chunk(offset: UInt64(index) * 4_194_304, pieces: ranges, digest: hashed ? hasher.finalize() : nil)
    }
  }

  func verify(_ card: String, image: String?, chunks: [CardBurner.Chunk]) throws(PiSwarmError) -> [UInt64] {
    let fd = open(card, O_RDONLY | O_CLOEXEC)
    defer { close(fd) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: CardBurner.chunkSize, alignment: 4096)
    defer { buffer.deallocate() }
    var reports: [UInt64] = []
    try CardBurner.verify(
      chunks, card: CardBurner.Card(fd: fd, tailFD: fd, path: card), image: image, buffer: buffer
    ) { reports.append($0) }
    return reports
  }

  func corrupt(_ path: String, at offset: UInt64) throws {
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    let old = try #require(try handle.read(upToCount: 1)?.first)
    try handle.seek(toOffset: offset)
    handle.write(Data([old ^ 0x01]))
  }

  @Test func aCardThatHoldsTheImageVerifiesBothWays() throws {
    let (image, card, bytes) = try files()
    #expect(try verify(card, image: image, chunks: chunks(bytes, hashed: false)) == [2_158_592, 2_964_288])
    #expect(try verify(card, image: nil, chunks: chunks(bytes, hashed: true)) == [2_158_592, 2_964_288])
  }

  @Test func aRawImageNamesTheFirstByteThatDiffers() throws {
    let (image, card, bytes) = try files()
    try corrupt(card, at: 2_000_123)
    try corrupt(card, at: 4_500_000)
    let error = #expect(throws: PiSwarmError.self) { try verify(card, image: image, chunks: chunks(bytes, hashed: false)) }
    #expect(
      error?.message == "\(card) does not hold what was written at offset 2000123 (1.9 MiB)", "\(String(describing: error))")
    #expect(error?.advice?.contains("failing or fake") == true)
  }

  @Test func aHashedImageNamesTheChunkThatDiffers() throws {
    let (_, card, bytes) = try files()
    try corrupt(card, at: 4_500_000)
    let error = #expect(throws: PiSwarmError.self) { try verify(card, image: nil, chunks: chunks(bytes, hashed: true)) }
    #expect(error?.message == "\(card) does not hold what was written in the 4 MiB at offset 4194304")
  }

  /// A byte outside every written piece is not the burn's business (the card's old contents).
  @Test func bytesOutsideThePiecesAreNotCompared() throws {
    let (image, card, bytes) = try files()
    try corrupt(card, at: 100)
    try corrupt(card, at: 4_000_000)
    _ = try verify(card, image: image, chunks: chunks(bytes, hashed: false))
    _ = try verify(card, image: nil, chunks: chunks(bytes, hashed: true))
  }

  @Test func anImageThatShrankIsNamed() throws {
    let (image, card, bytes) = try files()
    try FileHandle(forUpdating: URL(fileURLWithPath: image)).truncate(atOffset: 4_600_000)
    let error = #expect(throws: PiSwarmError.self) { try verify(card, image: image, chunks: chunks(bytes, hashed: false)) }
    #expect(
      error?.message == "cannot read \(image) again at offset 4600000 to verify: it is shorter than when it was written")
  }

  @Test func firstDifference() {
    let a: [UInt8] = [1, 2, 3, 4]
    a.withUnsafeBytes { a in
      ([1, 2, 3, 4] as [UInt8]).withUnsafeBytes { #expect(CardBurner.firstDifference(a, $0) == nil) }
      ([1, 2, 9, 4] as [UInt8]).withUnsafeBytes { #expect(CardBurner.firstDifference(a, $0) == 2) }
      ([0, 2, 3, 4] as [UInt8]).withUnsafeBytes { #expect(CardBurner.firstDifference(a, $0) == 0) }
      ([1, 2, 3] as [UInt8]).withUnsafeBytes { #expect(CardBurner.firstDifference(a, $0) == 3) }
    }
  }
}
