import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `piswarm root make` from an image whose /etc, /var and /root are absolute links (to a
/// sentinel tree standing for the head's own, never the real ones), with a chain of 22 links,
/// a daemon.json linking to a head file with a secret, and a crafted .pub: the sentinel comes out
/// untouched, each node's files are where the node sees them, and known_hosts holds exactly one
/// pin per node, the key piswarm made.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRunImages)) struct RootsConfinementIntegrationTests {
  /// Unmounts everything below `path`, deepest first; a busy mount is retried, then detached
  /// lazily, so that a failing test leaves nothing mounted.
  static func unmountAll(below path: String) {
    for _ in 0..<3 {
      let below = Mounts.points().filter { $0.hasPrefix(path + "/") }.sorted { $0.count > $1.count }
      if below.isEmpty { return }
      for point in below where (try? Command("umount", [point]).run().status) != 0 {
        usleep(200_000)
        if (try? Command("umount", [point]).run().status) != 0 { _ = try? Command("umount", ["-l", point]).run() }
      }
    }
  }

  /// The image's root tree: the links, and what they name as seen from inside the root.
  static func hostileTree(at tree: String, sentinel: SentinelTree) throws {
    let manager = FileManager.default
    func write(_ path: String, _ text: String) throws {
      let target = tree + path
      try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: target, atomically: false, encoding: .utf8)
    }
    func link(_ path: String, _ target: String) throws {
      try manager.createDirectory(
        atPath: ((tree + path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try manager.createSymbolicLink(atPath: tree + path, withDestinationPath: target)
    }
    let etc = sentinel.file("etc")
    try link("/etc", etc)
    try link("/var", sentinel.file("var"))
    // /root: a chain of 22 links, the last climbing out with `..`s.
    try link("/root", "/chain/l1")
    for index in 1...21 { try link("/chain/l\(index)", "l\(index + 1)") }
    try link("/chain/l22", String(repeating: "../", count: 30) + sentinel.file("root").dropFirst())
    try write(etc + "/os-release", "PRETTY_NAME=\"\(TestImage.osRelease)\"\nID=raspbian\n")
    try write(etc + "/hostname", "raspberrypi\n")
    try write(etc + "/machine-id", "0123456789abcdef0123456789abcdef\n")
    try write(etc + "/ssh/ssh_host_rsa_key", "base image rsa key\n")
    try write(etc + "/ssh/ssh_host_ed25519_key", "base image private key\n")
    try write(
      etc + "/ssh/ssh_host_ed25519_key.pub",
      "ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIBiyZCX3PVQi6UxjKmwjUyUM3gwHZFIWmj5DkBkuHXxx\n@cert-authority * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf\n"
    )
    try link(etc + "/docker/daemon.json", sentinel.file("secret.json"))
    try write(sentinel.file("var") + "/lib/docker/stale", "from the base image\n")
    try write(sentinel.file("var") + "/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n")
    try manager.createDirectory(atPath: tree + sentinel.file("root"), withIntermediateDirectories: true)
    try write("/usr/share/doc/readme", "piswarm test image\n")
  }

  func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

  func makeRoots(type: String, method: String) throws {
    guard Prerequisites.require(images: true) else { return }
    let sentinel = SentinelTree()
    let before = sentinel.fingerprint()
    let filesystem = try RootsIntegrationTests.LoopFilesystem(type: type, megabytes: type == "btrfs" ? 300 : 200)
    defer {
      Self.unmountAll(below: filesystem.mountPoint)
      filesystem.remove()
      #expect(!Mounts.points().contains { $0.hasPrefix(filesystem.mountPoint) }, "left mounted")
    }
    let fixture = RootsIntegrationTests.Fixture()
    let nfsRoot = filesystem.mountPoint
    let tree = fixture.scratch.file("tree")
    try Self.hostileTree(at: tree, sentinel: sentinel)
    let raw = fixture.scratch.file("hostile.img")
    try TestImage.make(at: raw, scratch: fixture.scratch.file("hostile-parts"), rootTree: tree)
    // The cluster file, key and image of the roots suite, with this image.
    try fixture.prepare(nfsRoot: nfsRoot)
    #expect(try fixture.piswarm(["image", "rm", "test-os"]).status == 0)
    let imported = try fixture.piswarm(["image", "import", raw, "--name", "test-os"])
    try #require(imported.status == 0, "\(imported.stderrText)")

    let made = try fixture.piswarm(["root", "make", "--json"])
    #expect(made.status == 0, "\(made.stderrText)")
    #expect(made.stderrText.contains("by \(method)"), "\(made.stderrText)")
    #expect(sentinel.fingerprint() == before, "the head's files changed")

    let knownHosts = (read(fixture.state.file("known_hosts")) ?? "").split(separator: "\n").map(String.init)
    #expect(knownHosts.count == 3, "\(knownHosts)")
    for (index, node) in ["node01", "node02", "node03"].enumerated() {
      let root = "\(nfsRoot)/\(node)"
      let etc = root + sentinel.file("etc")
      // Where the node sees its /etc and /root.
      #expect(read(etc + "/hostname") == node + "\n")
      #expect(read(root + sentinel.file("root") + "/.ssh/authorized_keys")?.contains("cluster-key") == true)
      #expect(!Files.exists(etc + "/ssh/ssh_host_rsa_key"))
      #expect(!Files.exists(root + sentinel.file("var") + "/lib/docker/stale"))
      let daemon = read(etc + "/docker/daemon.json") ?? ""
      #expect(daemon.contains("piswarm.node=\(node)") && !daemon.contains("s3cr3t"), "\(daemon)")
      let key = try SSHHostKey(parsing: read(etc + "/ssh/ssh_host_ed25519_key.pub") ?? "")
      #expect(knownHosts.filter { $0.hasPrefix("10.42.0.\(index + 1) ") } == [key.knownHostsLine(host: "10.42.0.\(index + 1)")])
      #expect(read(fixture.state.file("hostkeys/\(node).pub")) == key.publicKeyLine)
    }
    #expect(!knownHosts.joined().contains("@") && !knownHosts.joined().contains("\t"))
    #expect(!knownHosts.joined().contains("AAAAIBiyZCX3PVQi6UxjKmwjUyUM3gwHZFIWmj5DkBkuHXxx"), "the image's key is never pinned")

    // Other users of the head cannot reach the roots.
    var info = stat()
    #expect(stat(nfsRoot, &info) == 0 && info.st_mode & 0o077 == 0)
    // Again: nothing to do, nothing touched.
    let again = try fixture.piswarm(["root", "make"])
    #expect(again.status == 0, "\(again.stderrText)")
    #expect(sentinel.fingerprint() == before, "the head's files changed")
    let removed = try fixture.piswarm(["root", "rm", "node01", "node02", "node03"])
    #expect(removed.status == 0, "\(removed.stderrText)")
    #expect(sentinel.fingerprint() == before, "the head's files changed")
  }

  @Test func snapshotRootsOfAHostileImageStayInside() throws {
    try makeRoots(type: "btrfs", method: "snapshot")
  }

  @Test func overlayRootsOfAHostileImageStayInside() throws {
    try makeRoots(type: "ext4", method: "overlay")
  }

  /// Head-side mounts of images and overlays carry nosuid,nodev.
  @Test func headSideMountsAreNosuidNodev() throws {
    guard Prerequisites.require(images: true) else { return }
    let filesystem = try RootsIntegrationTests.LoopFilesystem(type: "ext4", megabytes: 200)
    defer {
      Self.unmountAll(below: filesystem.mountPoint)
      filesystem.remove()
    }
    let fixture = RootsIntegrationTests.Fixture()
    try fixture.prepare(nfsRoot: filesystem.mountPoint)
    let made = try fixture.piswarm(["root", "make", "node01"])
    try #require(made.status == 0, "\(made.stderrText)")
    // Read whole: Foundation stops a /proc file at its first 4 KiB (its size reads as 0).
    let mountinfo = Files.readWhole("/proc/self/mountinfo") ?? ""
    for point in [".lower/test-os", "node01"] {
      let line = mountinfo.split(separator: "\n").first { $0.split(separator: " ")[4] == "\(filesystem.mountPoint)/\(point)" }
      let options = line.map { String($0.split(separator: " ")[5]) } ?? ""
      #expect(options.contains("nosuid") && options.contains("nodev"), "\(point): \(options)")
    }
  }
}
