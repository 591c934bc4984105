import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm burn` onto cards that are loop devices (and a device-mapper device that fails
/// mid-card), from the Pi-OS-shaped test image built with the real tools.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRunImages)) struct BurnIntegrationTests {
  final class Fixture {
    let state = TemporaryDirectory("piswarm-burn-state")
    let scratch = TemporaryDirectory("piswarm-burn-scratch")
    var loops: [String] = []
    var mappers: [String] = []
    var mounts: [String] = []
    let image: String

    init() throws {
      image = scratch.file("disk.img")
      try TestImage.make(at: image, scratch: scratch.file("parts"), rootMiB: 64)
      try Command(
        "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm-burn-test", "-f", scratch.file("id_ed25519")]
      ).check()
      _ = scratch.write(
        "cluster.yml",
        """
        name: burn
        head:
          interface: br0
          address: 10.77.0.1/24
          lan: dhcp
        ssh:
          user: pi
          key: \(scratch.file("id_ed25519"))
        nodes:
          - name: node07
            ip: 10.77.0.17
            boot: sd
          - name: node08
            ip: 10.77.0.18
            boot: sd

        """)
    }

    deinit {
      for point in mounts { _ = Cleanup.unmount(point) }
      for mapper in mappers { _ = try? Command("dmsetup", ["remove", "--retry", mapper]).run() }
      for loop in loops { Cleanup.detach(loop: loop) }
      let left = Leftovers.waitForNone(paths: [state.path, scratch.path])
      if !left.isEmpty { Issue.record("left behind: \(left)") }
    }

    func piswarm(_ arguments: [String]) throws -> Command.Output {
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = state.path
      environment["PISWARM_FILE"] = scratch.file("cluster.yml")
      return try Command(TestBinary.piswarm(), arguments, environment: environment, timeout: 300).run()
    }

    /// A card: a loop device on a file of `mib` MiB filled with a pattern (what an old card holds).
    func card(_ name: String, mib: Int = 160) throws -> String {
      let file = scratch.file(name)
      let pattern = Data(repeating: 0xA5, count: 1 << 20)
      _ = FileManager.default.createFile(atPath: file, contents: nil)
      let handle = try #require(FileHandle(forWritingAtPath: file))
      for _ in 0..<mib { handle.write(pattern) }
      try handle.close()
      let loop = try Command("losetup", ["--find", "--show", file]).check().stdoutText.trimmingCharacters(
        in: .whitespacesAndNewlines)
      loops.append(loop)
      return loop
    }

    /// A card that fails mid-way: a loop device on a sparse 160 MiB file in a 6 MiB tmpfs (the
    /// kernel here has no device-mapper for dm-error), so writes fail with an I/O error once the
    /// tmpfs is full. Its first MiB holds a pattern. The device and its file.
    func failingCard() throws -> (String, String) {
      let small = scratch.file("small")
      try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
      try Command("mount", ["-t", "tmpfs", "-o", "size=6m", "piswarm-burn-test", small]).check()
      mounts.append(small)
      let file = small + "/card"
      try Command("truncate", ["-s", "160M", file]).check()
      let handle = try #require(FileHandle(forWritingAtPath: file))
      handle.write(Data(repeating: 0xA5, count: 1 << 20))
      try handle.close()
      let loop = try Command("losetup", ["--find", "--show", file]).check().stdoutText.trimmingCharacters(
        in: .whitespacesAndNewlines)
      loops.append(loop)
      return (loop, file)
    }

    func sha256(_ path: String, bytes: Int) throws -> String {
      let handle = try #require(FileHandle(forReadingAtPath: path))
      defer { try? handle.close() }
      return SHA256.hash(data: try handle.read(upToCount: bytes) ?? Data()).hexDigits
    }

    /// A file from the card's boot partition (mtools, at the partition's offset).
    func bootFile(_ device: String, _ name: String) throws -> String {
      let offset = TestImage.partitions(rootMiB: 64)[0].offset
      return try Command("mtype", ["-i", "\(device)@@\(offset)", "::\(name)"], environment: ["MTOOLS_SKIP_CHECK": "1"]).check()
        .stdoutText
    }

    /// The card's root partition, copied out, checked by e2fsck; returns debugfs `cat` of `file`.
    func rootFile(_ device: String, _ file: String) throws -> String {
      let root = TestImage.partitions(rootMiB: 64)[1]
      let copy = scratch.file("root-copy.ext4")
      try Command(
        "dd",
        [
          "if=\(device)", "of=\(copy)", "bs=1M", "iflag=skip_bytes,count_bytes", "skip=\(root.offset)", "count=\(root.size)",
          "status=none",
        ]
      ).check()
      let fsck = try Command("e2fsck", ["-fn", copy]).run()
      #expect(fsck.status == 0, "e2fsck on the burned root: \(fsck.stdoutText) \(fsck.stderrText)")
      return try Command("debugfs", ["-R", "cat \(file)", copy]).check().stdoutText
    }
  }

  struct Card: Decodable {
    struct Burn: Decodable {
      var imageSize: UInt64
      var written: UInt64
      var verifySeconds: Double?
    }
    struct Identity: Decodable {
      var format: String
      var hostKeyFingerprint: String
    }
    var node: String
    var burn: Burn?
    var identity: Identity?
    var error: String?
  }

  /// Two cards at once from a compressed image: only the used blocks are written (the cards'
  /// old pattern stays in the free ones, yet e2fsck finds the roots clean), both verified; each
  /// card gets its node's cloud-init identity (chosen because the image carries cloud-init), a
  /// fresh machine-id, and a host key pinned on the head before any boot.
  @Test func burnsTwoCardsWithUsedBlocksOnlyAndCloudInitIdentities() throws {
    guard Prerequisites.require(images: true) else { return }
    let f = try Fixture()
    // The image carries cloud-init: a file at /usr/bin/cloud-init in its root.
    let root = TestImage.partitions(rootMiB: 64)[1]
    try Command("debugfs", ["-w", "-R", "write /bin/true /usr/bin/cloud-init", "\(f.image)?offset=\(root.offset)"]).check()
    // As a capture of a node burned with firstrun.sh: cloud-init off, that node's static address.
    let leftovers = f.state.file("leftovers.cmd")
    try
      ([
        "mkdir /etc/cloud", "mkdir /etc/NetworkManager", "mkdir /etc/NetworkManager/system-connections",
      ] + CardIdentity.firstrunLeftovers.map { "write /bin/true \($0)" }).joined(separator: "\n").write(
        toFile: leftovers, atomically: true, encoding: .utf8)
    try Command("debugfs", ["-w", "-f", leftovers, "\(f.image)?offset=\(root.offset)"]).check()
    try Command("xz", ["-T0", "-1", "-k", f.image]).check()
    let cards = [try f.card("card7"), try f.card("card8")]
    let output = try f.piswarm(
      [
        "burn", "node[07-08]", "--device", cards[0], "--device", cards[1], "--image", f.image + ".xz", "--force", "--yes",
        "--json",
      ])
    try #require(output.status == 0, "\(output.stderrText)")
    let results = try JSONDecoder().decode([Card].self, from: Data(output.stdoutText.utf8))
    #expect(results.map(\.node) == ["node07", "node08"])
    for (result, card) in zip(results, cards) {
      let burn = try #require(result.burn)
      #expect(burn.written < burn.imageSize / 2, "wrote \(burn.written) of \(burn.imageSize)")
      #expect(burn.verifySeconds != nil)
      #expect(result.identity?.format == "cloud-init")
      let userData = try f.bootFile(card, "user-data")
      #expect(userData.contains("hostname: \(result.node)\n"))
      #expect(userData.contains("ssh_pwauth: false"))
      #expect(userData.contains("piswarm-burn-test"))
      let metaData = try f.bootFile(card, "meta-data")
      #expect(metaData.contains("instance-id: piswarm-\(result.node)-"))
      let cmdline = try f.bootFile(card, "cmdline.txt")
      #expect(cmdline.contains("cgroup_enable=memory cgroup_memory=1 ds=nocloud;i=piswarm-\(result.node)-"))
      #expect(try f.bootFile(card, "network-config").contains("dhcp4: true"))
      // The image's files are intact; the captured machine-id is replaced.
      #expect(try f.rootFile(card, "/usr/share/doc/readme") == String(repeating: "piswarm test image\n", count: 2000))
      for path in CardIdentity.firstrunLeftovers {
        #expect(try f.rootFile(card, path).isEmpty, "\(path) is still on \(result.node)'s card")
      }
      let machineID = try f.rootFile(card, "/etc/machine-id")
      #expect(NodeIdentity.isMachineID(machineID) && machineID != "0123456789abcdef0123456789abcdef\n")
      // Pinned: the key in user-data is the one in STATE/hostkeys and known_hosts.
      let pinned = try #require(f.state.read("hostkeys/\(result.node).pub"))
      let blob = try #require(pinned.split(separator: " ").dropFirst().first)
      #expect(userData.contains(String(blob)))
      #expect(try #require(f.state.read("known_hosts")).contains(String(blob)))
    }
    #expect(try f.bootFile(cards[0], "meta-data") != (try f.bootFile(cards[1], "meta-data")))
  }

  /// --first-boot firstrun: firstrun.sh and its systemd.run= words instead of cloud-init's files.
  @Test func firstrunIdentity() throws {
    guard Prerequisites.require(images: true) else { return }
    let f = try Fixture()
    let card = try f.card("card7")
    let output = try f.piswarm(
      ["burn", "node07", "--device", card, "--image", f.image, "--force", "--yes", "--first-boot", "firstrun", "--no-verify"])
    try #require(output.status == 0, "\(output.stderrText)")
    let script = try f.bootFile(card, "firstrun.sh")
    #expect(script.contains("PISWARM_HOSTNAME=node07"))
    #expect(script.contains("BEGIN OPENSSH PRIVATE KEY"))
    let cmdline = try f.bootFile(card, "cmdline.txt")
    #expect(cmdline.contains("systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot"))
    #expect(!cmdline.contains("ds=nocloud"))
    #expect(output.stdoutText.contains("skipped"))
  }

  /// A loop device without --force, a mounted disk, and the head's own disk are refused before
  /// anything is written.
  @Test func refusesWithoutWriting() throws {
    guard Prerequisites.require(images: true) else { return }
    let f = try Fixture()
    let card = try f.card("card7", mib: 128)
    let before = try f.sha256(card, bytes: 128 << 20)
    let loop = try f.piswarm(["burn", "node07", "--device", card, "--image", f.image, "--yes"])
    #expect(loop.status == 64)
    #expect(loop.stderrText.contains("is neither removable nor on USB"), "\(loop.stderrText)")
    #expect(loop.stderrText.contains("--force"))
    #expect(try f.sha256(card, bytes: 128 << 20) == before)

    try Command("mkfs.ext4", ["-q", "-F", card]).check()
    let point = f.scratch.file("mnt")
    try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
    try Command("mount", [card, point]).check()
    f.mounts.append(point)
    let mounted = try f.piswarm(["burn", "node07", "--device", card, "--image", f.image, "--force", "--yes"])
    #expect(mounted.status == 64)
    #expect(mounted.stderrText.contains("is mounted (\(card) on \(point))"), "\(mounted.stderrText)")

    // The head's disk: no --yes and no terminal, so that even a broken check could not write.
    let source = try Command("findmnt", ["-no", "SOURCE", "/"]).check().stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    let parent = try Command("lsblk", ["-no", "PKNAME", source]).run().stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    let disk = parent.isEmpty ? source : "/dev/" + parent
    guard disk.hasPrefix("/dev/") else { return }
    let head = try f.piswarm(["burn", "node07", "--device", disk, "--image", f.image, "--force"])
    #expect(head.status == 64)
    #expect(head.stderrText.contains("is the disk the head runs from"), "\(head.stderrText)")
  }

  /// A card that fails mid-way: a loop device on a sparse 160 MiB file in a 6 MiB tmpfs (the
  /// kernel here has no device-mapper for dm-error), so writes fail with an I/O error once the
  /// tmpfs is full. The error names the offset, the card's first MiB is zeroed, and nothing says
  /// "done".
  @Test func aWriteErrorMidCardLeavesItUnusable() throws {
    guard Prerequisites.require(images: true) else { return }
    let f = try Fixture()
    let (loop, file) = try f.failingCard()
    let output = try f.piswarm(["burn", "node07", "--device", loop, "--image", f.image, "--force", "--yes"])
    #expect(output.status == 1)
    #expect(output.stderrText.contains("failed to write at offset "), "\(output.stderrText)")
    #expect(output.stderrText.contains("marked unusable (its first MiB zeroed)"))
    #expect(!output.stderrText.contains(" done "))
    let card = try #require(FileHandle(forReadingAtPath: file))
    defer { try? card.close() }
    #expect(try card.read(upToCount: 1 << 20) == Data(repeating: 0, count: 1 << 20))
    #expect(output.stdoutText.contains("FAILED"))
  }

  /// Several cards at once, one failing mid-way: the others are written, verified and given
  /// their identity; the failing one is reported with its offset and zeroed; exit 1.
  @Test func aFailingCardDoesNotStopTheOthers() throws {
    guard Prerequisites.require(images: true) else { return }
    let f = try Fixture()
    let good = try f.card("card7")
    let (bad, file) = try f.failingCard()
    let output = try f.piswarm(
      ["burn", "node[07-08]", "--device", good, "--device", bad, "--image", f.image, "--force", "--yes", "--json"])
    #expect(output.status == 1, "\(output.stderrText)")
    let results = try JSONDecoder().decode([Card].self, from: Data(output.stdoutText.utf8))
    #expect(results.map(\.node) == ["node07", "node08"])
    #expect(results[0].error == nil && results[0].burn?.verifySeconds != nil && results[0].identity != nil, "\(results[0])")
    #expect(results[1].identity == nil && results[1].error?.contains("failed to write at offset ") == true, "\(results[1])")
    #expect(try f.bootFile(good, "firstrun.sh").contains("PISWARM_HOSTNAME=node07"))
    #expect(f.state.read("hostkeys/node08.pub") == nil, "no key pinned for a card that failed")
    let card = try #require(FileHandle(forReadingAtPath: file))
    defer { try? card.close() }
    #expect(try card.read(upToCount: 1 << 20) == Data(repeating: 0, count: 1 << 20))
  }
}
