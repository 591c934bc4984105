import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// A netboot node's root made into a card image on the head (as root: an overlay root on a
/// loop-mounted ext4 NFS root, as the e2e's; the card image itself needs no loop device). The
/// node wrote hostile things into its root: links out of it, Docker and swarm state, a
/// cloud-init instance, an engine key, piswarm's loop file. The card's root holds links as
/// links, none of the identity or state, the image's own host name and an empty machine-id,
/// Pi OS's fstab for the card; its boot partition holds the store image's boot files and a
/// cmdline.txt with root=PARTUUID; the image imports as any capture. The node's root is left
/// as it was, nothing stays mounted.
@Suite(.serialized, .enabled(if: getuid() == 0)) struct NetbootCardBuilderTests {
  var node: Node {
    // swift-format-ignore: NeverForceUnwrap
    var node = Node(name: "node04", mac: MACAddress("dc:a6:32:01:02:04")!, ip: IPv4Address("10.42.0.4")!)
    node.dockerStorage = .loopfile(ByteSize(bytes: 2 << 30))
    return node
  }
  // swift-format-ignore: NeverForceUnwrap
  let head = IPv4Address("10.42.0.250")!
  let clusterKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf cluster\n"

  func debugfs(_ image: String, _ offset: UInt64, _ request: String) throws -> String {
    try Command("debugfs", ["-R", request, "\(image)?offset=\(offset)"]).run().stdoutText
  }

  @Test func aNetbootRootBecomesACardImageWithoutTheNodesIdentityOrLinksOut() throws {
    let nfs = try LoopNFSRoot("piswarm-netboot-card")
    defer { nfs.cleanUp() }
    let folder = nfs.folder
    let nfsRoot = nfs.path

    let state = folder.file("state")
    try TestImage.make(at: folder.file("disk.img"), scratch: folder.file("parts"))
    _ = try ImageImporter(store: ImageStore(stateDirectory: state)).importImage(file: folder.file("disk.img"), name: "base")
    let maker = RootMaker(nfsRoot: nfsRoot, stateDirectory: state)
    let root = try maker.make(node: node, image: "base", method: .overlay, headIP: head, authorizedKey: clusterKey)
    // What the node wrote over NFS.
    try FileTree.write(
      [
        "var/lib/docker/swarm/state.json": "swarm identity", "var/lib/containerd/meta.db": "images",
        "var/lib/piswarm-node/docker.ext4": "loop file", "var/lib/piswarm-node/storage.mode": "loopfile:2G",
        "var/lib/cloud/instance/obj.pkl": "instance", "etc/docker/key.json": "engine key", "root/node-file": "kept",
        "etc/os-notes": "hard",
      ], under: root.path)
    try FileManager.default.createSymbolicLink(atPath: root.path + "/etc/evil", withDestinationPath: "/etc/shadow")
    try FileManager.default.createSymbolicLink(atPath: root.path + "/escape", withDestinationPath: "/")
    try FileManager.default.createSymbolicLink(atPath: root.path + "/root/up", withDestinationPath: "../../../../../etc")
    #expect(link(root.path + "/etc/os-notes", root.path + "/etc/os-notes-link") == 0)
    let before = try Command("sh", ["-c", "cd \"$0\" && find . | sort | sha256sum", root.path]).check().stdoutText

    let generation = RootGeneration(
      node: "node04", number: 1, image: "base", method: .overlay, path: root.path, role: .current, purpose: "root make")
    let builder = NetbootCardBuilder(nfsRoot: nfsRoot, stateDirectory: state)
    let build = folder.file("build")
    try Files.makeDirectory(build, mode: 0o700)
    let card = try builder.build(generation, into: build, diskID: 0x0102_0304)
    #expect(card.layout.diskID == 0x5049_535a, "the image's disk identifier (its cmdline.txt's PARTUUID)")
    #expect(card.root == root.path && card.generation == 1 && card.sourceImage == "base")
    // The tree measured through the stacked overlay (du -x would count a few KiB).
    #expect(card.rootTreeBytes > 40_000, "\(card.rootTreeBytes)")
    let mounted = Mounts.points().filter { $0.hasPrefix(folder.path) }
    #expect(
      Set(mounted) == [nfsRoot, root.path, maker.layout.lower("base")], "only the NFS root, its overlay and base: \(mounted)")
    #expect(try Command("sh", ["-c", "cd \"$0\" && find . | sort | sha256sum", root.path]).check().stdoutText == before)

    // The table, as sfdisk and piswarm's importer read it.
    let sector = try Array(FileHandle(forReadingFrom: URL(fileURLWithPath: card.path)).read(upToCount: 512) ?? Data())
    let partitions = try MBR.parse(sector, imageSize: card.layout.totalBytes, name: "card")
    #expect(partitions.map(\.firstSector) == [card.layout.bootStart, card.layout.rootStart])
    #expect(partitions.map(\.type) == [0x0c, 0x83])

    let rootOffset = card.layout.rootStart * 512
    let evil = try debugfs(card.path, rootOffset, "stat /etc/evil")
    #expect(evil.contains("Type: symlink") && evil.contains("/etc/shadow"), "a link stays a link: \(evil)")
    #expect(try debugfs(card.path, rootOffset, "stat /escape").contains("Type: symlink"))
    #expect(try debugfs(card.path, rootOffset, "stat /root/up").contains("Type: symlink"))
    let hard = try debugfs(card.path, rootOffset, "stat /etc/os-notes")
    #expect(hard.contains("Links: 2"), "hard links kept: \(hard)")
    let varLib = try debugfs(card.path, rootOffset, "ls /var/lib")
    for gone in ["docker", "containerd", "piswarm-node", "cloud"] { #expect(!varLib.contains(gone), "\(gone): \(varLib)") }
    #expect(!(try debugfs(card.path, rootOffset, "ls /etc/docker")).contains("key.json"))
    #expect(!(try debugfs(card.path, rootOffset, "ls /etc/ssh")).contains("ssh_host_"))
    #expect(try debugfs(card.path, rootOffset, "cat /etc/machine-id").isEmpty)
    #expect(try debugfs(card.path, rootOffset, "cat /etc/hostname") == "raspberrypi\n", "the image's host name")
    #expect(try debugfs(card.path, rootOffset, "cat /root/node-file") == "kept", "the node's own changes are the point")
    #expect(!(try debugfs(card.path, rootOffset, "ls /etc/systemd/network")).contains("piswarm"))
    #expect(!(try debugfs(card.path, rootOffset, "ls /etc/systemd/system/docker.service.d")).contains("piswarm-storage"))
    let fstab = try debugfs(card.path, rootOffset, "cat /etc/fstab")
    #expect(fstab.contains("PARTUUID=5049535a-02  /   ") && !fstab.contains("nfs") && !fstab.contains("docker"), "\(fstab)")

    let fat = "\(card.path)@@\(card.layout.bootStart * 512)"
    let cmdline = try Command("mtype", ["-i", fat, "::cmdline.txt"], environment: ["MTOOLS_SKIP_CHECK": "1"]).check().stdoutText
    #expect(cmdline == "console=serial0,115200 root=PARTUUID=5049535a-02 rootfstype=ext4 rootwait\n")
    let config = try Command("mtype", ["-i", fat, "::config.txt"], environment: ["MTOOLS_SKIP_CHECK": "1"]).check().stdoutText
    #expect(config == "arm_64bit=1\nenable_uart=1\n", "the store's boot files")

    // Stored like any capture: it imports.
    let captured = try ImageCapture(store: ImageStore(stateDirectory: state)).capture(
      source: ["cat", card.path], bytes: card.layout.totalBytes, name: "golden", node: "node04")
    #expect(captured.image.name == "golden" && captured.rawBytes == card.layout.totalBytes)
  }

  @Test func aRootOutsideTheNFSRootIsRefused() throws {
    let folder = TemporaryDirectory("piswarm-netboot-card-refused")
    let nfsRoot = folder.file("nfs")
    try FileManager.default.createDirectory(atPath: nfsRoot, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: folder.file("elsewhere"), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: nfsRoot + "/node04", withDestinationPath: folder.file("elsewhere"))
    let builder = NetbootCardBuilder(nfsRoot: nfsRoot, stateDirectory: folder.file("state"))
    for path in ["/etc", nfsRoot + "/node04", nfsRoot + "/../elsewhere", nfsRoot] {
      let generation = RootGeneration(
        node: "node04", number: 1, image: "base", method: .copy, path: path, role: .current, purpose: "root make")
      #expect(throws: PiSwarmError.self, "\(path)") { try builder.checkedRoot(generation) }
    }
  }
}
