import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// The import reads its source file once: the stream hashes the bytes it reads and feeds them to
/// the decompressor; no second pass (`sha256sum`) over the file.
@Suite struct ImageStreamTests {
  let folder = TemporaryDirectory("piswarm-stream")

  /// 3 MiB of varied bytes: more than one chunk and more than a pipe holds.
  var payload: Data {
    var bytes = [UInt8](repeating: 0, count: 3 << 20)
    var state: UInt32 = 1
    for index in bytes.indices {
      state = state &* 1_664_525 &+ 1_013_904_223
      bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
    }
    return Data(bytes)
  }

  func drain(_ stream: ImageStream) throws -> Data {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 700_000, alignment: 16)
    defer { buffer.deallocate() }
    var out = Data()
    while true {
      let count = try stream.readFully(into: buffer)
      if count == 0 { break }
      out.append(contentsOf: buffer[0..<count])
    }
    return out
  }

  @Test func aPlainFileIsReadAndHashedInOnePass() throws {
    let path = folder.file("plain.img")
    try payload.write(to: URL(fileURLWithPath: path))
    let stream = try ImageStream(path: path, compression: .none)
    #expect(try drain(stream) == payload)
    #expect(stream.finish().status == 0)
    #expect(stream.sourceDigest == SHA256.hex(payload))
    #expect(stream.sourcePosition == UInt64(payload.count))
  }

  @Test func aCompressedFileIsFedToTheDecompressorAndHashedAsDownloaded() throws {
    let plain = folder.file("image.img")
    try payload.write(to: URL(fileURLWithPath: plain))
    try Command("gzip", ["-1", "-k", plain]).check()
    let compressed = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
    let stream = try ImageStream(path: plain + ".gz", compression: .gzip)
    #expect(try drain(stream) == payload)
    #expect(stream.finish().status == 0)
    #expect(stream.sourceDigest == SHA256.hex(compressed))
  }

  @Test func aDamagedStreamEndsWithTheDecompressorsFailureAndTheWholeFileHashed() throws {
    let path = folder.file("damaged.img.gz")
    var bytes = Data([0x1f, 0x8b, 0x08, 0x00]) + Data(repeating: 0x55, count: 2 << 20)
    bytes[10] = 0xff
    try bytes.write(to: URL(fileURLWithPath: path))
    let stream = try ImageStream(path: path, compression: .gzip)
    _ = try drain(stream)
    let (status, stderr) = stream.finish()
    #expect(status != 0)
    #expect(!stderr.isEmpty)
    #expect(stream.sourceDigest == SHA256.hex(bytes))
  }
}
