import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

#if canImport(Glibc)
  import Glibc
#endif

/// RootMaker on a plain folder standing for a node's root that the node has made hostile: its
/// links point at a sentinel tree outside the root (standing for the head's /etc, /var, /root),
/// which must come out of every run untouched, with exactly one pinned known_hosts line.
@Suite struct RootConfinementTests {
  let folder = TemporaryDirectory("piswarm-confined")
  let sentinel = SentinelTree()
  var nfsRoot: String { folder.file("nfs") }
  var root: String { nfsRoot + "/node01" }
  var state: String { folder.file("state") }
  var maker: RootMaker { RootMaker(nfsRoot: nfsRoot, stateDirectory: state) }
  // swift-format-ignore: NeverForceUnwrap
  let node = Node(name: "node01", ip: IPv4Address("10.42.0.1")!)
  // swift-format-ignore: NeverForceUnwrap
  let head = IPv4Address("10.42.0.250")!
  let clusterKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf cluster\n"

  init() throws {
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
  }

  func make(daemon: DaemonConfig.Settings? = nil) throws -> RootResult {
    try maker.make(node: node, image: "test-os", method: .copy, headIP: head, authorizedKey: clusterKey, daemon: daemon)
  }

  func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

  func link(_ name: String, to target: String) throws {
    let path = root + "/" + name
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
  }

  /// The known_hosts lines, which must be exactly the one for node01 with the key in its root
  /// (in `etc`, the root's /etc as the node sees it).
  func expectOnePin(etc: String = "/etc") {
    let lines = (read(state + "/known_hosts") ?? "").split(separator: "\n", omittingEmptySubsequences: false)
    let publicKey = read(root + etc + "/ssh/ssh_host_ed25519_key.pub") ?? ""
    let fields = publicKey.split(whereSeparator: \.isWhitespace)
    #expect(fields.count >= 2)
    #expect(lines == ["10.42.0.1 \(fields.prefix(2).joined(separator: " "))", ""], "\(lines)")
  }

  func newKey(_ name: String) throws -> (privateKey: String, publicKey: String) {
    let path = folder.file(name)
    try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]).check()
    return (read(path) ?? "", read(path + ".pub") ?? "")
  }

  /// An image whose /etc, /var and /root are absolute links to the sentinel's: the node (and,
  /// confined, piswarm) sees the copies inside its root; the head's sentinel stays as it was.
  @Test func absoluteLinksResolveInsideTheRoot() throws {
    let before = sentinel.fingerprint()
    for top in ["etc", "var", "root"] {
      try link(top, to: sentinel.file(top))
      // What the links name as seen from inside the root.
      try FileManager.default.createDirectory(
        atPath: root + sentinel.file(top), withIntermediateDirectories: true)
    }
    try FileManager.default.createDirectory(atPath: root + sentinel.file("etc/ssh"), withIntermediateDirectories: true)
    try "base rsa key\n".write(toFile: root + sentinel.file("etc/ssh/ssh_host_rsa_key"), atomically: false, encoding: .utf8)
    try FileManager.default.createDirectory(
      atPath: root + sentinel.file("var/lib/docker/stale"), withIntermediateDirectories: true)

    try? maker.clearCloned(root)
    let result = try? make()
    #expect(sentinel.fingerprint() == before, "the head's files changed")
    #expect(result != nil)
    #expect(read(root + sentinel.file("etc/hostname")) == "node01\n")
    #expect(read(root + sentinel.file("root/.ssh/authorized_keys"))?.contains("cluster") == true)
    #expect(!FileManager.default.fileExists(atPath: root + sentinel.file("etc/ssh/ssh_host_rsa_key")))
    #expect((try? FileManager.default.contentsOfDirectory(atPath: root + sentinel.file("var/lib/docker"))) == [])
    expectOnePin(etc: sentinel.file("etc"))
  }

  /// `/etc` → a chain of 22 links (Foundation's resolver gives up after 20, the kernel follows
  /// 40) ending in `..`s that climb out of the root towards the sentinel.
  @Test func aChainOf22LinksCannotLeadOut() throws {
    let before = sentinel.fingerprint()
    for index in 1...21 { try link("chain/l\(index)", to: "l\(index + 1)") }
    try link("chain/l22", to: String(repeating: "../", count: 30) + sentinel.file("etc").dropFirst())
    try link("etc", to: "chain/l1")
    try FileManager.default.createDirectory(atPath: root + sentinel.file("etc"), withIntermediateDirectories: true)

    let result = try? make()
    #expect(sentinel.fingerprint() == before, "the head's files changed")
    #expect(result != nil)
    // Resolved as the node sees it: the `..`s stop at its own root.
    #expect(read(root + sentinel.file("etc/hostname")) == "node01\n")
    #expect(read(root + sentinel.file("etc/fstab"))?.contains("10.42.0.250:\(root)") == true)
    expectOnePin(etc: sentinel.file("etc"))
  }

  /// A daemon.json that links to a head file: its keys must not reach the node.
  @Test func aSymlinkedDaemonJSONDoesNotLeakAHeadFile() throws {
    let before = sentinel.fingerprint()
    try link("etc/docker/daemon.json", to: sentinel.file("secret.json"))
    let settings = DaemonConfig.Settings(cluster: "test", node: "node01", docker: DockerSettings(), mountedStorage: false)
    let result = try make(daemon: settings)
    #expect(sentinel.fingerprint() == before, "the head's files changed")
    #expect(result.changed.contains(DaemonConfig.path))
    let daemon = read(root + "/etc/docker/daemon.json") ?? ""
    #expect(!daemon.contains("s3cr3t"), "\(daemon)")
    #expect(daemon.contains("piswarm.node=node01"))
    var info = stat()
    #expect(lstat(root + "/etc/docker/daemon.json", &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    expectOnePin()
  }

  /// A key pair piswarm did not make, whose .pub smuggles a second known_hosts line (tab
  /// separated, with a @cert-authority marker): never pinned; piswarm makes its own key.
  @Test(arguments: [
    "ssh-ed25519\tBLOB\tx\n@cert-authority * ssh-ed25519 EVIL\n",
    "ssh-ed25519\tBLOB\n10.42.0.2\tssh-ed25519\tEVIL\n",
    "ssh-ed25519 BLOB root@node01\n",
  ])
  func aKeyInTheRootThatPiswarmDidNotMakeIsNeverPinned(template: String) throws {
    let before = sentinel.fingerprint()
    let crafted = try newKey("crafted")
    let evil = try newKey("evil")
    let blob = { (key: String) in String(key.split(separator: " ")[1]) }
    let pub = template.replacingOccurrences(of: "BLOB", with: blob(crafted.publicKey))
      .replacingOccurrences(of: "EVIL", with: blob(evil.publicKey))
    try FileManager.default.createDirectory(atPath: root + "/etc/ssh", withIntermediateDirectories: true)
    try crafted.privateKey.write(toFile: root + "/etc/ssh/ssh_host_ed25519_key", atomically: false, encoding: .utf8)
    try pub.write(toFile: root + "/etc/ssh/ssh_host_ed25519_key.pub", atomically: false, encoding: .utf8)

    let result = try make()
    #expect(sentinel.fingerprint() == before)
    let known = read(state + "/known_hosts") ?? ""
    #expect(!known.contains(blob(crafted.publicKey)) && !known.contains(blob(evil.publicKey)), "\(known)")
    #expect(!known.contains("@") && !known.contains("\t"))
    #expect(result.changed.contains("/etc/ssh/ssh_host_ed25519_key"))
    expectOnePin()
  }

  /// Once pinned, a key the node puts in its root is a warning, never a new pin.
  @Test func aKeyChangedInTheRootAfterPinningIsNotRepinned() throws {
    let first = try make()
    let pinned = read(state + "/known_hosts")
    let other = try newKey("other")
    try other.privateKey.write(toFile: root + "/etc/ssh/ssh_host_ed25519_key", atomically: false, encoding: .utf8)
    try other.publicKey.write(toFile: root + "/etc/ssh/ssh_host_ed25519_key.pub", atomically: false, encoding: .utf8)
    let second = try make()
    #expect(read(state + "/known_hosts") == pinned)
    #expect(second.hostKeyFingerprint == first.hostKeyFingerprint)
    #expect(!(pinned ?? "").contains(String(other.publicKey.split(separator: " ")[1])))
  }

  /// The fingerprint is the pinned key's, as ssh-keygen prints it.
  @Test func theFingerprintIsThePinnedKeys() throws {
    let result = try make()
    let printed = try Command("ssh-keygen", ["-l", "-E", "sha256", "-f", root + "/etc/ssh/ssh_host_ed25519_key.pub"])
      .check().stdoutText
    #expect(result.hostKeyFingerprint.hasPrefix("SHA256:"))
    #expect(printed.contains(" \(result.hostKeyFingerprint) "), "\(printed)")
    // Again: nothing written, the same pin.
    let again = try make()
    #expect(again.changed.isEmpty && again.hostKeyFingerprint == result.hostKeyFingerprint)
  }

  /// The NFS root is made (or tightened to) 0700: other users of the head cannot read node roots.
  @Test func theNFSRootIsNotReadableByOthers() throws {
    try FileManager.default.createDirectory(atPath: folder.file("fresh"), withIntermediateDirectories: true)
    chmod(nfsRoot, 0o755)
    _ = try maker.capabilities()
    var info = stat()
    #expect(stat(nfsRoot, &info) == 0 && info.st_mode & 0o077 == 0, "\(String(info.st_mode & 0o777, radix: 8))")
    let fresh = RootMaker(nfsRoot: folder.file("fresh/nfs"), stateDirectory: state)
    _ = try fresh.capabilities()
    #expect(stat(folder.file("fresh/nfs"), &info) == 0 && info.st_mode & 0o777 == 0o700)
  }
}
