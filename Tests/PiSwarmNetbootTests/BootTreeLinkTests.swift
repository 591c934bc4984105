import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Node folders hard-link the firmware and share files of the same content (a new inode costs far
/// more than a link on a busy ext4), and keep every guarantee symbolic links gave: trees of older
/// versions are left alone, a newer firmware file replaces the links, one node's update never
/// reaches another's file, an interrupted run converges, and a dry run names what the run does.
@Suite struct BootTreeLinkTests {
  typealias Setup = NetbootApplyTests.Setup

  static let nodes = """
      - { name: node01, ip: 10.9.0.11, mac: "b8:27:eb:00:00:01", serial: 1a2b3c4d, model: pi4 }
      - { name: node02, ip: 10.9.0.12, mac: "b8:27:eb:00:00:02", model: pi4 }
    """
  /// The three node folders of `nodes`.
  static let folders = ["b8-27-eb-00-00-01", "1a2b3c4d", "b8-27-eb-00-00-02"]

  static func info(_ path: String) throws -> stat {
    var info = stat()
    try #require(lstat(path, &info) == 0, "\(path) is missing")
    return info
  }

  static func kind(_ path: String) throws -> mode_t { try info(path).st_mode & S_IFMT }

  static func sameFile(_ a: String, _ b: String) throws -> Bool {
    let (x, y) = (try info(a), try info(b))
    return x.st_dev == y.st_dev && x.st_ino == y.st_ino
  }

  func run(_ setup: Setup, _ cluster: Cluster, firmware: String? = nil, dryRun: Bool = false) throws -> [FileChange] {
    var options = NetbootApply.Options(
      filesOnly: true, firmwareDirectory: firmware ?? setup.dir.file("fw"), dnsmasqExtra: [])
    options.dryRun = dryRun
    return try NetbootApply.run(cluster, paths: setup.paths, options: options, services: FakeServices()).changes
  }

  /// Every path under the TFTP root that a run left behind as a temporary.
  func leftovers(_ setup: Setup) -> [String] {
    let names = FileManager.default.enumerator(atPath: setup.tftp)?.allObjects as? [String] ?? []
    return names.filter { $0.contains(".piswarm-") }
  }

  @Test func firmwareIsHardLinkedFoldersSymlinkedAndFilesOfOneContentShared() throws {
    let setup = Setup()
    _ = try run(setup, try setup.cluster(Self.nodes))
    for folder in Self.folders.map({ setup.tftp + "/" + $0 }) {
      #expect(try Self.kind(folder + "/start4.elf") == S_IFREG)
      #expect(try Self.sameFile(folder + "/start4.elf", setup.dir.file("fw/start4.elf")))
      #expect(try Self.sameFile(folder + "/kernel8.img", setup.dir.file("fw/kernel8.img")))
      // A folder cannot be hard-linked: a symbolic link.
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/overlays") == setup.dir.file("fw/overlays"))
      #expect(try Self.info(folder + "/cmdline.txt").st_mode & 0o7777 == 0o644)
      #expect(try Self.info(folder + "/config.txt").st_mode & 0o7777 == 0o644)
    }
    let (mac, serial, other) = (setup.tftp + "/b8-27-eb-00-00-01", setup.tftp + "/1a2b3c4d", setup.tftp + "/b8-27-eb-00-00-02")
    // One node's two folders share its cmdline.txt; two nodes of one model share config.txt.
    #expect(try Self.sameFile(mac + "/cmdline.txt", serial + "/cmdline.txt"))
    #expect(try !Self.sameFile(mac + "/cmdline.txt", other + "/cmdline.txt"))
    #expect(try Self.sameFile(mac + "/config.txt", other + "/config.txt"))
    // The folder's symbolic links are one inode too.
    #expect(try Self.sameFile(mac + "/overlays", other + "/overlays"))
    #expect(setup.dir.read("tftp/b8-27-eb-00-00-02/cmdline.txt")?.contains("/srv/nfs/node02,") == true)
    #expect(leftovers(setup).isEmpty)
    // The no-op: nothing to do, nothing done.
    let snapshot = setup.dir.snapshot()
    #expect(try run(setup, try setup.cluster(Self.nodes), dryRun: true).isEmpty)
    #expect(try run(setup, try setup.cluster(Self.nodes)).isEmpty)
    #expect(setup.dir.snapshot() == snapshot)
  }

  @Test func firmwareOnAnotherFilesystemGetsSymbolicLinks() throws {
    let setup = Setup()
    // /dev/shm is a tmpfs, the temporary folder is not (or the test proves nothing).
    let firmware = "/dev/shm/piswarm-boottree-\(getpid())-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: firmware) }
    try FileManager.default.createDirectory(atPath: firmware, withIntermediateDirectories: true)
    chmod(firmware, 0o755)
    try "start4\n".write(toFile: firmware + "/start4.elf", atomically: false, encoding: .utf8)
    try #require(try Self.info(firmware).st_dev != Self.info(setup.dir.path).st_dev, "/dev/shm is on the same filesystem")
    let first = try run(setup, try setup.cluster(Self.nodes), firmware: firmware)
    #expect(first.contains(FileChange(setup.tftp + "/1a2b3c4d/start4.elf", .linked)))
    for folder in Self.folders {
      #expect(
        try FileManager.default.destinationOfSymbolicLink(atPath: setup.tftp + "/\(folder)/start4.elf")
          == firmware + "/start4.elf")
    }
    #expect(try Self.sameFile(setup.tftp + "/1a2b3c4d/start4.elf", setup.tftp + "/b8-27-eb-00-00-02/start4.elf"))
    #expect(try run(setup, try setup.cluster(Self.nodes), firmware: firmware).isEmpty)
  }

  @Test func symbolicLinksOfAnOlderVersionAreLeftAlone() throws {
    let setup = Setup()
    let cluster = try setup.cluster(Self.nodes)
    _ = try run(setup, cluster)
    // As piswarm made them before: symbolic links to the firmware, by absolute path.
    for folder in Self.folders {
      let path = setup.tftp + "/\(folder)/start4.elf"
      unlink(path)
      try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: setup.dir.file("fw/start4.elf"))
    }
    #expect(try run(setup, cluster, dryRun: true).isEmpty)
    #expect(try run(setup, cluster).isEmpty)
    for folder in Self.folders { #expect(try Self.kind(setup.tftp + "/\(folder)/start4.elf") == S_IFLNK) }
    // A symbolic link elsewhere is replaced, by a hard link.
    let wrong = setup.tftp + "/1a2b3c4d/kernel8.img"
    unlink(wrong)
    try FileManager.default.createSymbolicLink(atPath: wrong, withDestinationPath: setup.dir.file("fw/start4.elf"))
    let dry = try run(setup, cluster, dryRun: true)
    #expect(dry == [FileChange(wrong, .linked)])
    #expect(try run(setup, cluster) == dry)
    #expect(try Self.sameFile(wrong, setup.dir.file("fw/kernel8.img")))
  }

  @Test func aHardLinkToAReplacedFirmwareFileIsReplaced() throws {
    let setup = Setup()
    let cluster = try setup.cluster(Self.nodes)
    _ = try run(setup, cluster)
    // A newer firmware file, put in place by rename: a new inode; the node folders hold the old.
    try AtomicFile.write("start4 v2\n", to: setup.dir.file("fw/start4.elf"))
    let dry = try run(setup, cluster, dryRun: true)
    #expect(Set(dry) == Set(Self.folders.map { FileChange(setup.tftp + "/\($0)/start4.elf", .linked) }))
    #expect(try run(setup, cluster) == dry)
    for folder in Self.folders {
      #expect(try Self.sameFile(setup.tftp + "/\(folder)/start4.elf", setup.dir.file("fw/start4.elf")))
      #expect(setup.dir.read("tftp/\(folder)/start4.elf") == "start4 v2\n")
    }
    #expect(leftovers(setup).isEmpty)
    #expect(try run(setup, cluster).isEmpty)
  }

  @Test func aSharedFileUpdatedForOneNodeLeavesTheOthersAlone() throws {
    let setup = Setup()
    _ = try run(setup, try setup.cluster(Self.nodes))
    let other = setup.tftp + "/b8-27-eb-00-00-02/config.txt"
    let before = try #require(setup.dir.read("tftp/b8-27-eb-00-00-02/config.txt"))
    let inode = try Self.info(other).st_ino
    #expect(try Self.info(other).st_nlink == 3)
    // node01 becomes a Pi 3: its config.txt (in both its folders) changes, node02's does not.
    let changed = try setup.cluster(
      Self.nodes.replacingOccurrences(of: "serial: 1a2b3c4d, model: pi4", with: "serial: 1a2b3c4d, model: pi3b"))
    let dry = try run(setup, changed, dryRun: true)
    #expect(
      dry == [
        FileChange(setup.tftp + "/b8-27-eb-00-00-01/config.txt", .updated),
        FileChange(setup.tftp + "/1a2b3c4d/config.txt", .updated),
      ])
    #expect(try run(setup, changed) == dry)
    #expect(setup.dir.read("tftp/b8-27-eb-00-00-02/config.txt") == before)
    #expect(try Self.info(other).st_ino == inode && Self.info(other).st_nlink == 1)
    #expect(setup.dir.read("tftp/1a2b3c4d/config.txt")?.contains("kernel=kernel8.img") == true)
    #expect(try Self.sameFile(setup.tftp + "/b8-27-eb-00-00-01/config.txt", setup.tftp + "/1a2b3c4d/config.txt"))
    #expect(leftovers(setup).isEmpty)
  }

  @Test func anInterruptedRunConvergesOnTheNext() throws {
    let setup = Setup()
    _ = try run(setup, try setup.cluster(Self.nodes))
    // Both nodes become Pi 3s: every config.txt changes, each by rename. node02's config.txt is
    // in the way (a folder with something in it: the rename over it fails), so the run stops
    // half way, some files replaced, some not.
    let blocker = setup.tftp + "/b8-27-eb-00-00-02/config.txt"
    unlink(blocker)
    try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
    setup.dir.write("tftp/b8-27-eb-00-00-02/config.txt/inside", "x\n")
    // A firmware link replaced by a file of the same name, as a run stopped mid-way might find.
    unlink(setup.tftp + "/1a2b3c4d/kernel8.img")
    setup.dir.write("tftp/1a2b3c4d/kernel8.img", "partial")
    let pi3 = try setup.cluster(Self.nodes.replacingOccurrences(of: "model: pi4", with: "model: pi3b"))
    #expect(throws: PiSwarmError.self) { try run(setup, pi3) }
    #expect(leftovers(setup).isEmpty, "\(leftovers(setup))")

    try FileManager.default.removeItem(atPath: blocker)
    let dry = try run(setup, pi3, dryRun: true)
    #expect(try run(setup, pi3) == dry)
    #expect(try run(setup, pi3, dryRun: true).isEmpty)
    for folder in Self.folders {
      #expect(setup.dir.read("tftp/\(folder)/config.txt")?.contains("kernel=kernel8.img") == true, "\(folder)")
      #expect(try Self.sameFile(setup.tftp + "/\(folder)/kernel8.img", setup.dir.file("fw/kernel8.img")))
    }
    #expect(try Self.sameFile(setup.tftp + "/1a2b3c4d/config.txt", setup.tftp + "/b8-27-eb-00-00-01/config.txt"))
    #expect(leftovers(setup).isEmpty)
  }
}
