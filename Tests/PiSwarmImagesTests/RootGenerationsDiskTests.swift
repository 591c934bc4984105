import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// Root generations on disk, by the copy method on a plain folder (the bases are trees the test
/// writes, so nothing is mounted): a new generation from another image keeps the node's host
/// key and machine-id, the Docker storage is one file across generations, a backup copies the
/// current root, and nothing in a node's root is followed out of it.
@Suite struct RootGenerationsDiskTests {
  let folder = TemporaryDirectory("piswarm-generations")
  var nfsRoot: String { folder.file("nfs") }
  var state: String { folder.file("state") }
  var maker: RootMaker { RootMaker(nfsRoot: nfsRoot, stateDirectory: state) }
  // swift-format-ignore: NeverForceUnwrap
  let node = Node(name: "node01", mac: MACAddress("dc:a6:32:01:02:03")!, ip: IPv4Address("10.42.0.1")!)
  // swift-format-ignore: NeverForceUnwrap
  let head = IPv4Address("10.42.0.250")!
  let clusterKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf cluster\n"

  init() throws {
    // Two "imported" images whose bases already exist as trees in the NFS root.
    for (image, release) in [("old", "one"), ("new", "two")] {
      try FileTree.write(["root.ext4": ""], under: "\(state)/images/\(image)")
      try FileTree.write(
        ["etc/piswarm-release": release + "\n", "etc/hostname": "raspberrypi\n", "etc/machine-id": "\n"],
        under: "\(nfsRoot)/.base/\(image)")
    }
  }

  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }

  func inode(_ path: String) -> ino_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_ino : nil
  }

  func generation(_ number: Int, _ image: String, _ role: RootGeneration.Role) -> RootGeneration {
    RootGeneration(
      node: "node01", number: number, image: image, method: .copy, path: maker.layout.generation("node01", number), role: role,
      purpose: "test")
  }

  @Test func aNewGenerationCarriesTheIdentityAndSharesTheDockerStorage() throws {
    let first = try maker.make(node: node, image: "old", method: .copy, headIP: head, authorizedKey: clusterKey)
    #expect(first.path == nfsRoot + "/node01")
    // What the node wrote: its Docker storage and the storage mode.
    try FileTree.write(
      ["var/lib/piswarm-node/docker.ext4": "swarm state", "var/lib/piswarm-node/storage.mode": "loopfile\n"],
      under: first.path)

    let second = try maker.make(
      node: node, image: "new", method: .copy, headIP: head, authorizedKey: clusterKey, generation: 2, carrying: first.path)
    #expect(second.path == nfsRoot + "/.roots/node01/2")
    #expect(second.created)
    #expect(read(second.path + "/etc/piswarm-release") == "two\n")
    #expect(read(second.path + "/etc/hostname") == "node01\n")
    // The same machine: host key (private bytes and the pinned public half), machine-id.
    for file in ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/machine-id"] {
      #expect(read(second.path + file) == read(first.path + file), "\(file)")
    }
    #expect(second.hostKeyFingerprint == first.hostKeyFingerprint)
    #expect(!second.changed.contains("/etc/ssh/ssh_host_ed25519_key"), "no new key was made")
    // Its fstab mounts its own generation.
    #expect(read(second.path + "/etc/fstab").contains("10.42.0.250:\(second.path)\t/\tnfs"))
    // The storage is not copied at make time; at the switch it becomes one file.
    #expect(!Files.exists(second.path + DockerStorageLayout.loopfile))
    let carried = try maker.carryStorage(node: "node01", from: generation(1, "old", .current), to: generation(2, "new", .made))
    #expect(carried == [DockerStorageLayout.loopfile, DockerStorageLayout.marker])
    #expect(inode(second.path + DockerStorageLayout.loopfile) == inode(first.path + DockerStorageLayout.loopfile))
    #expect(read(second.path + DockerStorageLayout.marker) == "loopfile\n")
    // Back again (a rollback): still one file, nothing to change.
    try maker.carryStorage(node: "node01", from: generation(2, "new", .current), to: generation(1, "old", .previous))
    #expect(inode(second.path + DockerStorageLayout.loopfile) == inode(first.path + DockerStorageLayout.loopfile))

    // A backup of generation 2 is a copy with the same identity.
    let backup = try maker.copyGeneration(node: "node01", from: generation(2, "new", .current), as: 3)
    #expect(backup == nfsRoot + "/.roots/node01/3")
    #expect(read(backup + "/etc/piswarm-release") == "two\n")
    #expect(read(backup + "/etc/machine-id") == read(first.path + "/etc/machine-id"))
    #expect(throws: PiSwarmError.self) { try maker.copyGeneration(node: "node01", from: generation(2, "new", .current), as: 3) }

    // Removal takes one generation, and keeps the pinned key (the node lives on).
    try maker.removeGeneration(node: "node01", generation(3, "new", .kept))
    try maker.removeGeneration(node: "node01", generation(1, "old", .kept))
    #expect(!Files.exists(backup) && !Files.exists(first.path))
    #expect(Files.exists(second.path + "/etc/hostname"))
    #expect(Files.exists(state + "/hostkeys/node01.pub"))
  }

  @Test func aNodeCannotMakeTheHeadShareOrCarryWhatIsNotItsOwn() throws {
    let first = try maker.make(node: node, image: "old", method: .copy, headIP: head, authorizedKey: clusterKey)
    let second = try maker.make(
      node: node, image: "new", method: .copy, headIP: head, authorizedKey: clusterKey, generation: 2, carrying: first.path)
    let secret = folder.file("head-secret")
    try "head only\n".write(toFile: secret, atomically: true, encoding: .utf8)
    // The storage file is a link to a head file: refused, nothing carried.
    try FileManager.default.createDirectory(atPath: first.path + "/var/lib/piswarm-node", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: first.path + DockerStorageLayout.loopfile, withDestinationPath: secret)
    #expect(throws: PiSwarmError.self) {
      try maker.carryStorage(node: "node01", from: generation(1, "old", .current), to: generation(2, "new", .made))
    }
    #expect(!Files.exists(second.path + DockerStorageLayout.loopfile))
    // The folder is a link out of the root: it resolves inside the root, where nothing is.
    try FileManager.default.removeItem(atPath: first.path + "/var/lib/piswarm-node")
    try FileManager.default.createSymbolicLink(atPath: first.path + "/var/lib/piswarm-node", withDestinationPath: folder.path)
    try "x".write(toFile: folder.file("docker.ext4"), atomically: true, encoding: .utf8)
    #expect(
      try maker.carryStorage(node: "node01", from: generation(1, "old", .current), to: generation(2, "new", .made)).isEmpty)
    #expect(!Files.exists(second.path + DockerStorageLayout.loopfile))
    // A machine-id that is not one is not carried; the new root gets its own.
    try "not an id\n".write(toFile: first.path + "/etc/machine-id", atomically: true, encoding: .utf8)
    let third = try maker.make(
      node: node, image: "new", method: .copy, headIP: head, authorizedKey: clusterKey, generation: 3, carrying: first.path)
    #expect(NodeIdentity.isMachineID(read(third.path + "/etc/machine-id")))
    #expect(read(third.path + "/etc/machine-id") != "not an id\n")
  }
}
