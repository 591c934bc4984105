import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// Overlay generations on a loop-mounted ext4 filesystem (as root; what the e2e's NFS root is):
/// generation 2 over another image, the Docker storage put into its upper layer while it is
/// unmounted and visible once mounted again, `ensure` mounting each generation over its own
/// image after everything was unmounted, and removal unmounting first. Everything mounted or
/// attached is removed in defer, also on failure.
@Suite(.serialized, .enabled(if: getuid() == 0)) struct OverlayGenerationsTests {
  // swift-format-ignore: NeverForceUnwrap
  let node = Node(name: "node01", mac: MACAddress("dc:a6:32:01:02:03")!, ip: IPv4Address("10.42.0.1")!)
  // swift-format-ignore: NeverForceUnwrap
  let head = IPv4Address("10.42.0.250")!
  let clusterKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf cluster\n"

  @Test func overlayGenerationsOverTwoImages() throws {
    let nfs = try LoopNFSRoot("piswarm-overlay-generations")
    defer { nfs.cleanUp() }
    let folder = nfs.folder
    let nfsRoot = nfs.path

    let state = folder.file("state")
    let importer = ImageImporter(store: ImageStore(stateDirectory: state))
    try TestImage.make(at: folder.file("disk.img"), scratch: folder.file("parts"))
    for name in ["old", "new"] { _ = try importer.importImage(file: folder.file("disk.img"), name: name) }
    let maker = RootMaker(nfsRoot: nfsRoot, stateDirectory: state)
    let first = try maker.make(node: node, image: "old", method: .overlay, headIP: head, authorizedKey: clusterKey)
    try FileTree.write(["var/lib/piswarm-node/docker.ext4": "swarm state"], under: first.path)
    let second = try maker.make(
      node: node, image: "new", method: .overlay, headIP: head, authorizedKey: clusterKey, generation: 2,
      carrying: first.path)
    #expect(Mounts.points().contains(second.path))
    #expect(second.hostKeyFingerprint == first.hostKeyFingerprint)
    let one = RootGeneration(
      node: "node01", number: 1, image: "old", method: .overlay, path: first.path, role: .current, purpose: "t")
    let two = RootGeneration(
      node: "node01", number: 2, image: "new", method: .overlay, path: second.path, role: .made, purpose: "t")
    // Into the upper layer, with the overlay unmounted and mounted again around it.
    #expect(try maker.carryStorage(node: "node01", from: one, to: two) == [DockerStorageLayout.loopfile])
    #expect(Mounts.points().contains(second.path))
    let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }
    #expect(read(second.path + DockerStorageLayout.loopfile) == "swarm state")
    try "more state".write(toFile: second.path + DockerStorageLayout.loopfile, atomically: false, encoding: .utf8)
    #expect(read(first.path + DockerStorageLayout.loopfile) == "more state", "one file in both generations")

    // After a restart of the head: each generation over its own image again.
    for point in [second.path, first.path, maker.layout.lower("new"), maker.layout.lower("old")] {
      try Command("umount", [point]).check()
    }
    let mounted = try maker.ensure(generations: [one, two])
    #expect(Set(mounted) == [first.path, second.path, maker.layout.lower("new"), maker.layout.lower("old")])
    let secondLine = try Command("findmnt", ["-n", "-o", "FS-OPTIONS", second.path]).check().stdoutText
    #expect(secondLine.contains("lowerdir=\(maker.layout.lower("new"))"), "\(secondLine)")
    #expect(secondLine.contains("upperdir=\(maker.layout.upper("node01", generation: 2))"), "\(secondLine)")
    #expect(try maker.ensure(generations: [one, two]).isEmpty)

    // Removing generation 1 unmounts it and leaves generation 2 whole.
    try maker.removeGeneration(node: "node01", one)
    #expect(!Mounts.points().contains(first.path) && !Files.exists(first.path))
    #expect(!Files.exists(maker.layout.upper("node01")))
    #expect(read(second.path + "/etc/hostname") == "node01\n")
    try maker.removeGeneration(node: "node01", two)
    #expect(!Mounts.points().contains(second.path))
    #expect(!Files.exists(maker.layout.overlayFolder("node01", generation: 2)))
    try maker.removeBase(image: "new", method: .overlay)
    try maker.removeBase(image: "old", method: .overlay)
  }
}
