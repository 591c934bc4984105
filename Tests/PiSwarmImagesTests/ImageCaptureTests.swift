import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Synchronization
import Testing

@testable import PiSwarmImages

/// The head's side of `piswarm image capture`: a process writes a disk's bytes on its stdout
/// (ssh running capture.sh on a node in real use; here `cat` or `sh` on a Pi-OS-shaped test
/// image built with the real tools), piswarm hashes them as they arrive, zstd compresses them,
/// and the file is imported into the store under its name and kept as the image's source.
/// A copy that fails or comes up short leaves nothing in the store.
@Suite(
  .enabled(
    if: ["mkfs.vfat", "mkfs.ext4", "mcopy", "debugfs", "zstd"].allSatisfy { Command.resolve($0) != nil }
      || ProcessInfo.processInfo.environment["CI"] == "true"))
struct ImageCaptureTests {
  let state = TemporaryDirectory("piswarm-capture-state")
  let scratch = TemporaryDirectory("piswarm-capture-scratch")

  func image() throws -> (path: String, size: UInt64, sha256: String) {
    let path = scratch.file("card.img")
    try TestImage.make(at: path, scratch: scratch.file("parts"), rootMiB: 64)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return (path, UInt64(data.count), SHA256.hash(data: data).hexDigits)
  }

  var entries: [String] { (try? FileManager.default.contentsOfDirectory(atPath: state.file("images"))) ?? [] }

  @Test func aDiskStreamBecomesAnImageWhoseHashIsTheStreamsAndWhoseSourceIsTheCompressedCopy() throws {
    let (path, size, digest) = try image()
    let store = ImageStore(stateDirectory: state.path)
    let reports = Mutex<[UInt64]>([])
    let capture = ImageCapture(store: store, progress: { done, _, _ in reports.withLock { $0.append(done) } })
    let captured = try capture.capture(
      source: [
        "sh", "-c", "printf 'capture: /boot/firmware remounted read-only\\ncapture: / frozen (fsfreeze)\\n' >&2; cat \"$0\"",
        path,
      ], bytes: size, name: "golden",
      node: "node07")
    #expect(captured.notes == ["capture: /boot/firmware remounted read-only", "capture: / frozen (fsfreeze)"])
    #expect(captured.rawBytes == size)
    #expect(captured.rawSHA256 == digest)
    #expect(captured.image.name == "golden" && captured.image.compression == .zstd)
    #expect(captured.image.imageSize == size)
    #expect(captured.image.source == store.folder("golden") + "/" + ImageCapture.fileName)
    #expect(reports.withLock { $0.last } == size)
    // The stored file decompresses to the disk's bytes.
    let back = try Command("sh", ["-c", "zstd -dc \"$0\" | sha256sum", captured.image.source]).check().stdoutText
    #expect(back.hasPrefix(digest))
    // Imported as any image: boot files and the root filesystem; the node's secrets root's only.
    #expect(Files.exists(store.boot("golden") + "/cmdline.txt"))
    var info = stat()
    #expect(stat(store.rootFilesystem("golden"), &info) == 0 && info.st_mode & 0o077 == 0)
    #expect(stat(captured.image.source, &info) == 0 && info.st_mode & 0o077 == 0)
    #expect(entries == ["golden"], "\(entries)")
  }

  @Test func aShortOrFailedCopyLeavesNothing() throws {
    let (path, size, _) = try image()
    let store = ImageStore(stateDirectory: state.path)
    let capture = ImageCapture(store: store)
    // The node announced more than it sent.
    #expect(throws: PiSwarmError.self) {
      try capture.capture(source: ["cat", path], bytes: size + 512, name: "short", node: "node07")
    }
    // The copy ended with an error part-way (ssh lost, a read error on the node).
    do throws(PiSwarmError) {
      _ = try capture.capture(
        source: ["sh", "-c", "head -c 1048576 \"$0\"; echo 'dd: error reading' >&2; exit 5", path], bytes: size, name: "broken",
        node: "node07")
      Issue.record("a failed copy was stored")
    } catch {
      #expect(error.message.contains("status 5 after 1048576 bytes"), "\(error)")
      #expect(error.description.contains("dd: error reading"), "\(error)")
    }
    #expect(entries.isEmpty, "\(entries)")
    // A bad name changes nothing either.
    #expect(throws: PiSwarmError.self) { try capture.capture(source: ["cat", path], bytes: size, name: "Bad Name", node: "n") }
    #expect(entries.isEmpty, "\(entries)")
  }
}
