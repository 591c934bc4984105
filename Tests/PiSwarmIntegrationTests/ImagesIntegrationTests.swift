import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm image import|ls|rm` on small images of Raspberry Pi OS's shape, built by the test
/// with the real tools (mkfs.vfat, mcopy, mkfs.ext4 -d), raw and compressed.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRunImages)) struct ImagesIntegrationTests {
  /// A state directory and scratch folder of one test, removed when it ends.
  struct Fixture {
    let state = TemporaryDirectory("piswarm-img-state")
    let scratch = TemporaryDirectory("piswarm-img-scratch")

    @discardableResult
    func piswarm(_ arguments: [String]) throws -> Command.Output {
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = state.path
      environment["PISWARM_FILE"] = nil
      return try Command(TestBinary.piswarm(), arguments, environment: environment, timeout: 120).run()
    }

    /// Builds the test image and compresses it with `compression` (the raw image is removed).
    func image(_ compression: ImageCompression, sector: [UInt8]? = nil, name: String = "disk") throws -> String {
      let raw = scratch.file("\(name).img")
      try TestImage.make(at: raw, scratch: scratch.file("parts-\(name)"), sector: sector)
      switch compression {
      case .none: return raw
      case .xz: try Command("xz", ["-T0", "-1", raw]).check()
      case .gzip: try Command("gzip", ["-1", raw]).check()
      case .zstd: try Command("zstd", ["-q", "--rm", raw]).check()
      }
      return raw + [ImageCompression.xz: ".xz", .gzip: ".gz", .zstd: ".zst"][compression, default: ""]
    }

    /// Records whatever of this test is still on the machine (mounts, loop devices, processes).
    func checkLeftovers() {
      let left = Leftovers.waitForNone(paths: [state.path, scratch.path])
      if !left.isEmpty { Issue.record("left behind: \(left)") }
    }

    /// Everything under STATE/images (dot-folders of interrupted imports included).
    var storeEntries: [String] {
      (try? FileManager.default.contentsOfDirectory(atPath: state.file("images"))) ?? []
    }
  }

  struct Imported: Decodable {
    var name: String
    var osRelease: String
    var kernels: [String]
    var modules: [String]
    var imageSize: UInt64
    var sha256: String
    var compression: String
  }

  @Test(arguments: ImageCompression.allCases)
  func importsEachCompressionIntoBootFilesAndARootFilesystem(_ compression: ImageCompression) throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    defer { fixture.checkLeftovers() }
    let file = try fixture.image(compression)
    let started = Date()
    let result = try fixture.piswarm(["image", "import", file, "--json"])
    #expect(result.status == 0, "\(result.stderrText)")
    let elapsed = Date().timeIntervalSince(started)
    let imported = try JSONDecoder().decode(Imported.self, from: result.stdout)
    #expect(imported.name == "disk")
    #expect(imported.compression == compression.rawValue)
    #expect(imported.osRelease == TestImage.osRelease)
    #expect(imported.modules == [TestImage.kernelVersion])
    #expect(imported.kernels == ["kernel8.img", "kernel_2712.img"])
    #expect(imported.imageSize == TestImage.partitions()[1].end)
    let sha = try Command("sha256sum", [file]).check().stdoutText.prefix(64)
    #expect(imported.sha256 == String(sha))
    #expect(elapsed < 20, "import took \(elapsed) s")

    // Boot files, byte for byte; the root as an ext4 file the size of its partition.
    let boot = fixture.state.file("images/disk/boot")
    for name in TestImage.bootFiles {
      let original = FileManager.default.contents(atPath: fixture.scratch.file("parts-disk/bootfiles/\(name)"))
      #expect(original != nil && FileManager.default.contents(atPath: "\(boot)/\(name)") == original, "\(name)")
    }
    let root = fixture.state.file("images/disk/root.ext4")
    let attributes = try FileManager.default.attributesOfItem(atPath: root)
    #expect((attributes[.size] as? UInt64) == TestImage.rootMiB << 20)
    let hostname = try Command("debugfs", ["-R", "cat /etc/hostname", root]).check().stdoutText
    #expect(hostname == "raspberrypi\n")
    #expect(fixture.storeEntries == ["disk"])

    let list = try fixture.piswarm(["image", "ls", "--json"])
    #expect(list.status == 0)
    #expect(list.stdoutText.contains("\"name\" : \"disk\""))
    #expect(try fixture.piswarm(["image", "ls"]).stdoutText.contains("disk  \(TestImage.osRelease)"))

    // The same name again is refused, and nothing changes.
    let again = try fixture.piswarm(["image", "import", file])
    #expect(again.status == 64)
    #expect(again.stderrText.contains("an image named disk exists already"), "\(again.stderrText)")

    let removed = try fixture.piswarm(["image", "rm", "disk"])
    #expect(removed.status == 0, "\(removed.stderrText)")
    #expect(fixture.storeEntries.isEmpty)
    #expect(try fixture.piswarm(["image", "ls", "--json"]).stdoutText == "[\n\n]\n")
  }

  @Test func anImportUnderAnotherNameAndItsMessagesOnAMissingFile() throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    defer { fixture.checkLeftovers() }
    let missing = try fixture.piswarm(["image", "import", fixture.scratch.file("nope.img.xz")])
    #expect(missing.status == 64)
    #expect(missing.stderrText.contains("nope.img.xz does not exist"))
    let badName = try fixture.piswarm(["image", "import", "x.img", "--name", "Bad Name"])
    #expect(badName.status == 64)
    #expect(badName.stderrText.contains("cannot name an image"))
    let file = try fixture.image(.zstd)
    let result = try fixture.piswarm(["image", "import", file, "--name", "bookworm-lite"])
    #expect(result.status == 0, "\(result.stderrText)")
    #expect(result.stdoutText.hasPrefix("imported bookworm-lite: \(TestImage.osRelease), kernel \(TestImage.kernelVersion)"))
    #expect(fixture.storeEntries == ["bookworm-lite"])
  }

  /// Malformed images: a clear message naming the problem, exit 64, and nothing left behind.
  @Test(arguments: ["truncated-raw", "truncated-xz", "corrupt-xz", "gpt", "no-fat", "not-ext4", "not-an-image"])
  func malformedImagesAreRefusedAndLeaveNothing(_ kind: String) throws {
    guard Prerequisites.require(images: true) else { return }
    let fixture = Fixture()
    defer { fixture.checkLeftovers() }
    var file: String
    let expected: String
    switch kind {
    case "truncated-raw":
      file = try fixture.image(.none)
      try Command("truncate", ["-s", "30M", file]).check()
      expected = "partition 1 ends at byte 46137344, beyond the image's 31457280 bytes"
    case "truncated-xz":
      file = try fixture.image(.none)
      try Command("truncate", ["-s", "50M", file]).check()
      try Command("xz", ["-T0", "-1", file]).check()
      file += ".xz"
      expected = "is truncated: it ends at byte 52428800, inside partition 2"
    case "corrupt-xz":
      file = try fixture.image(.xz)
      let data = try Data(contentsOf: URL(fileURLWithPath: file))
      try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: file))
      expected = "cannot be decompressed (xz exited with status 1)"
    case "gpt":
      file = try fixture.image(
        .gzip, sector: MBR.encode([MBR.Partition(number: 1, type: 0xEE, firstSector: 1, sectorCount: 131_071)]))
      expected = "is a GPT disk (protective MBR, partition type 0xee)"
    case "no-fat":
      file = try fixture.image(.none, sector: MBR.encode(TestImage.partitions(bootType: 0x83)))
      expected = "has no FAT boot partition (partitions 1: 0x83, 2: 0x83)"
    case "not-ext4":
      var partitions = TestImage.partitions()
      partitions[1].firstSector = partitions[0].firstSector + 2048
      partitions[1].sectorCount = 2048
      partitions[0].sectorCount = 2048
      file = try fixture.image(.none, sector: MBR.encode(partitions))
      expected = "partition 2 (type 0x83) holds no ext4 filesystem"
    default:
      file = fixture.scratch.write("notes.img.gz", "hello")
      try Command("gzip", ["-f", file]).check()
      file += ".gz"
      expected = "too short to be a disk image"
    }
    let result = try fixture.piswarm(["image", "import", file, "--name", "bad"])
    #expect(result.status == 64, "\(kind): \(result.status) \(result.stderrText)")
    #expect(result.stderrText.contains(expected), "\(kind): \(result.stderrText)")
    #expect(result.stderrText.contains("hint:"), "\(kind): \(result.stderrText)")
    #expect(fixture.storeEntries.isEmpty, "\(kind) left \(fixture.storeEntries)")
    #expect(try fixture.piswarm(["image", "ls", "--json"]).stdoutText == "[\n\n]\n")
  }
}
