import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The primitive every access to a node root goes through: nothing it does reaches the sentinel
/// tree outside the root, whatever links the root holds.
@Suite struct ConfinedRootTests {
  let folder = TemporaryDirectory("piswarm-confinedroot")
  let sentinel = SentinelTree()
  var root: String { folder.file("root") }

  init() throws {
    try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
    try "inside\n".write(toFile: root + "/etc/hostname", atomically: false, encoding: .utf8)
  }

  func link(_ name: String, to target: String) throws {
    let path = root + "/" + name
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
  }

  func text(_ data: Data?) -> String? { data.map { String(decoding: $0, as: UTF8.self) } }

  func kind(_ path: String) -> mode_t {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
  }

  @Test func aDryRunSaysWhatItWouldWriteAndChangesNothing() throws {
    try link("etc/masked.service", to: "/dev/null")
    let before = folder.snapshot()
    let dry = try ConfinedRoot(root, dryRun: true)
    #expect(try dry.write("inside\n", to: "/etc/hostname") == false)
    #expect(try dry.write("other\n", to: "/etc/hostname") == true)
    #expect(try dry.write("new\n", to: "/etc/new/file") == true)
    #expect(try dry.link("/dev/null", at: "/etc/masked.service") == false)
    #expect(try dry.link("/dev/null", at: "/etc/other.service") == true)
    try dry.unlink("/etc/hostname")
    try dry.makeDirectory("/var/lib/docker")
    try dry.removeTree("/etc")
    try dry.rename("/etc/hostname", to: "/etc/hostname.old")
    #expect(folder.snapshot() == before)
    #expect(text(try dry.read("/etc/hostname")) == "inside\n")
  }

  @Test func readsAndWritesFilesInside() throws {
    let confined = try ConfinedRoot(root)
    #expect(text(try confined.read("/etc/hostname")) == "inside\n")
    #expect(try confined.read("/etc/missing") == nil)
    #expect(try confined.read("/nowhere/at/all") == nil)
    #expect(try confined.write("node\n", to: "/etc/hostname"))
    #expect(!(try confined.write("node\n", to: "/etc/hostname")), "unchanged content is not written")
    #expect(try confined.write("key\n", to: "/root/.ssh/authorized_keys", mode: 0o600, folderMode: 0o700))
    var info = stat()
    #expect(stat(root + "/root/.ssh", &info) == 0 && info.st_mode & 0o777 == 0o700)
    #expect(stat(root + "/root/.ssh/authorized_keys", &info) == 0 && info.st_mode & 0o777 == 0o600)
    #expect(try confined.kind("/root/.ssh") == .directory)
    #expect(try confined.kind("/etc/hostname") == .file)
    // No temporary file is left beside.
    #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/etc") == ["hostname"])
    try confined.rename("/etc/hostname", to: "/etc/hostname.old")
    #expect(text(try confined.read("/etc/hostname.old")) == "node\n")
    try confined.unlink("/etc/hostname.old")
    try confined.unlink("/etc/hostname.old")
    #expect(try confined.kind("/etc/hostname.old") == nil)
  }

  @Test func absoluteLinksResolveInsideTheRoot() throws {
    let before = sentinel.fingerprint()
    try link("etc2", to: sentinel.file("etc"))
    try link("abs", to: "/etc/hostname")
    let confined = try ConfinedRoot(root)
    // The sentinel's etc, seen from inside the root, does not exist.
    #expect(try confined.read("/etc2/hostname") == nil)
    #expect(throws: PiSwarmError.self) { try confined.write("x", to: "/etc2/hostname") }
    try confined.unlink("/etc2/ssh/ssh_host_rsa_key")
    try confined.removeTree("/etc2/ssh")
    // Made inside the root, it is used.
    try FileManager.default.createDirectory(atPath: root + sentinel.file("etc"), withIntermediateDirectories: true)
    try confined.write("node\n", to: "/etc2/hostname")
    #expect(text(FileManager.default.contents(atPath: root + sentinel.file("etc/hostname"))) == "node\n")
    // A link to an absolute path inside the root is a link at the end: absent.
    #expect(try confined.read("/abs") == nil)
    #expect(sentinel.fingerprint() == before)
  }

  @Test func dotDotStopsAtTheRoot() throws {
    let before = sentinel.fingerprint()
    let up = String(repeating: "../", count: 20) + sentinel.file("etc").dropFirst()
    try link("up", to: up)
    let confined = try ConfinedRoot(root)
    #expect(try confined.read(up + "/hostname") == nil)
    #expect(try confined.read("/up/hostname") == nil)
    try confined.unlink("/up/hostname")
    try confined.unlink(up + "/hostname")
    try FileManager.default.createDirectory(atPath: root + sentinel.file("etc"), withIntermediateDirectories: true)
    try confined.write("node\n", to: "/up/hostname")
    #expect(text(FileManager.default.contents(atPath: root + sentinel.file("etc/hostname"))) == "node\n")
    #expect(sentinel.fingerprint() == before)
  }

  @Test func aChainOf22LinksStaysInsideAndOneOf41IsRefused() throws {
    let before = sentinel.fingerprint()
    try FileManager.default.createDirectory(atPath: root + sentinel.file("etc"), withIntermediateDirectories: true)
    for index in 1...21 { try link("chain/l\(index)", to: "l\(index + 1)") }
    try link("chain/l22", to: sentinel.file("etc"))
    for index in 1...40 { try link("long/l\(index)", to: "/long/l\(index + 1)") }
    try link("long/l41", to: sentinel.file("etc"))
    let confined = try ConfinedRoot(root)
    try confined.write("node\n", to: "/chain/l1/hostname")
    #expect(text(FileManager.default.contents(atPath: root + sentinel.file("etc/hostname"))) == "node\n")
    #expect(throws: PiSwarmError.self) { try confined.write("x", to: "/long/l1/hostname") }
    #expect(throws: PiSwarmError.self) { try confined.read("/long/l1/hostname") }
    #expect(sentinel.fingerprint() == before)
  }

  @Test func aFinalLinkIsNeverFollowed() throws {
    let before = sentinel.fingerprint()
    try link("etc/docker/daemon.json", to: sentinel.file("secret.json"))
    try link("etc/relative", to: "hostname")
    let confined = try ConfinedRoot(root)
    #expect(try confined.read("/etc/docker/daemon.json") == nil)
    #expect(try confined.read("/etc/relative") == nil, "even a link to a file inside")
    #expect(try confined.kind("/etc/docker/daemon.json") == .symlink)
    try confined.write("{}\n", to: "/etc/docker/daemon.json")
    #expect(kind(root + "/etc/docker/daemon.json") == S_IFREG)
    try confined.unlink("/etc/relative")
    #expect(kind(root + "/etc/relative") == 0)
    #expect(Files.exists(root + "/etc/hostname"))
    #expect(sentinel.fingerprint() == before)
  }

  @Test func magicLinksAreRefused() throws {
    // Inside a root, /proc/self/root is the root's own (missing) folder.
    try link("escape", to: "/proc/self/root")
    let confined = try ConfinedRoot(root)
    #expect(try confined.read("/escape/etc/hostname") == nil)
    // Where a real /proc is inside the root (the whole file system as root), its magic links
    // are refused rather than followed.
    let whole = try ConfinedRoot("/")
    #expect(throws: PiSwarmError.self) { try whole.read("/proc/self/root\(root)/etc/hostname") }
    #expect(throws: PiSwarmError.self) { try whole.read("/proc/self/cwd/x") }
    #expect(try whole.read("/proc/self/exe") == nil, "a final magic link is absent")
  }

  @Test func devicesAndFoldersReadAsAbsent() throws {
    let confined = try ConfinedRoot(root)
    #expect(try confined.read("/etc") == nil)
    let whole = try ConfinedRoot("/")
    #expect(try whole.read("/dev/null") == nil)
  }

  @Test func removeTreeUnlinksLinksAndNeverFollowsThem() throws {
    let before = sentinel.fingerprint()
    try FileManager.default.createDirectory(atPath: root + "/var/lib/docker/a/b", withIntermediateDirectories: true)
    try "data".write(toFile: root + "/var/lib/docker/a/b/file", atomically: false, encoding: .utf8)
    try link("var/lib/docker/a/to-sentinel", to: sentinel.file("var/lib/docker"))
    try link("var/lib/docker/abs", to: "/etc")
    let confined = try ConfinedRoot(root)
    try confined.removeTree("/var/lib/docker")
    #expect(kind(root + "/var/lib/docker") == 0)
    #expect(kind(root + "/etc/hostname") == S_IFREG)
    try confined.makeDirectory("/var/lib/docker", mode: 0o710)
    var info = stat()
    #expect(stat(root + "/var/lib/docker", &info) == 0 && info.st_mode & 0o777 == 0o710)
    // A link as the tree itself: the link goes, its target stays.
    try link("gone", to: sentinel.file("var"))
    try confined.removeTree("/gone")
    #expect(kind(root + "/gone") == 0)
    try confined.removeTree("/not/there")
    #expect(sentinel.fingerprint() == before)
  }

  @Test func aPathThatNamesNoFileIsRefused() throws {
    let confined = try ConfinedRoot(root)
    for path in ["/", "", "/etc/..", "."] {
      #expect(throws: PiSwarmError.self) { try confined.write("x", to: path) }
    }
    try link("link-root", to: root)
    #expect(throws: PiSwarmError.self) { try ConfinedRoot(root + "/link-root") }
  }
}
