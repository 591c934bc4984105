import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What a card image built from a netboot node's root holds.
public struct NetbootCardImage: Codable, Sendable {
  /// The raw disk image (in the build's scratch folder).
  public var path: String
  /// The root generation it was made from: its path on the head, number and image.
  public var root: String
  public var generation: Int
  public var sourceImage: String
  public var layout: NetbootCapture.Layout
  /// Bytes of the root tree (without what was left out) and of the boot files.
  public var rootTreeBytes: UInt64
  public var bootFilesBytes: UInt64
}

/// Builds a card image from a netboot node's current root as the head serves it, with head
/// tools only (sfdisk, mkfs.vfat and mtools, mke2fs -d; no loop device but the store image's
/// own read-only mount): MBR, FAT32 boot partition (the source image's boot files from the
/// store, the head's copy, with the card's cmdline.txt), ext4 root partition holding the
/// node's tree.
///
/// The node wrote its root: the tree is read by `mke2fs -d`, which takes every entry with
/// lstat and copies a link as a link (never its target), through a read-only overlay
/// (`nosuid,nodev`) whose top layer is a folder of piswarm's own: whiteouts for what is left
/// out (`NetbootCapture.leftOut`, the files the image lacks of `restored`), the image's own
/// files for the rest of `restored`, an empty machine-id and the card's fstab. mke2fs runs in
/// a jail (Scripts/card-root.sh: a private mount namespace, chroot into a tmpfs with only the
/// head's /usr, the tree and the output), so that a folder swapped for a link while it copies
/// leads nowhere on the head that matters. Nothing is read from the root into the head's
/// output; nothing in it is changed.
public struct NetbootCardBuilder: Sendable {
  public var layout: RootLayout
  public var store: ImageStore
  public var stateDirectory: String

  public init(nfsRoot: String, stateDirectory: String) {
    layout = RootLayout(nfsRoot: nfsRoot)
    store = ImageStore(stateDirectory: stateDirectory)
    self.stateDirectory = Files.absolute(stateDirectory)
  }

  /// Builds `folder/card.img` from `generation` (the node's current one). `diskID` is used when
  /// the image's cmdline.txt names none.
  public func build(
    _ generation: RootGeneration, into folder: String, diskID fallbackID: UInt32 = UInt32.random(in: 1...UInt32.max)
  ) throws(PiSwarmError) -> NetbootCardImage {
    let node = generation.node
    let root = try checkedRoot(generation)
    guard store.contains(generation.image) else {
      throw PiSwarmError(
        .notFound, "\(node)'s root was made from the image \(generation.image), which is no longer in the store",
        advice:
          "import it again under that name ('piswarm image import FILE --name \(generation.image)'): its boot files go on the card"
      )
    }
    let boot = store.boot(generation.image)
    let imageCmdline = Files.readWhole(boot + "/cmdline.txt") ?? ""
    let imageID = NetbootCapture.diskID(cmdline: imageCmdline)
    let stage = folder + "/stage"
    let merged = folder + "/merged"
    try Files.makeDirectory(stage, mode: 0o755)
    try Files.makeDirectory(merged, mode: 0o700)

    // The top layer: from the store image's root (mounted read-only), never from the node's.
    var fstabText: String?
    var bootMount = "/boot/firmware"
    let tree = try ConfinedRoot(root)
    try withImage(generation.image) { (mountPoint) throws(PiSwarmError) in
      let image = try ConfinedRoot(mountPoint)
      let top = try ConfinedRoot(stage)
      let whiteout = { (path: String) throws(PiSwarmError) in try self.whiteout(path, in: top, over: tree) }
      for path in NetbootCapture.restored {
        switch try image.kind(path) {
        case .file:
          if let data = try image.read(path) { try top.write(data, to: path, mode: 0o644) }
        case .symlink:
          if let target = try image.linkTarget(path) { try top.link(target, at: path) }
        default:
          try whiteout(path)
        }
      }
      fstabText = try image.read("/etc/fstab").map { String(decoding: $0, as: UTF8.self) }
      if try image.kind("/boot/firmware") != .directory { bootMount = "/boot" }
      for path in NetbootCapture.leftOut { try whiteout(path) }
      try top.write(Data(), to: NetbootCapture.machineIDPath, mode: 0o444)
    }

    // Every file of the top layer is in place before the mount (a layer must not change under it).
    let diskID = imageID ?? fallbackID
    try ConfinedRoot(stage).write(
      NetbootCapture.fstab(
        image: fstabText, imageDiskID: imageID, layout: NetbootCapture.layout(bootFiles: 0, rootTree: 0, diskID: diskID),
        bootMount: bootMount), to: "/etc/fstab", mode: 0o644)
    try Command(
      "mount", ["-t", "overlay", "piswarm-capture", "-o", "ro,nosuid,nodev,lowerdir=\(stage):\(root)", merged]
    ).check()
    defer { _ = try? Command("umount", [merged]).run() }
    let treeBytes = try Self.usage(merged, apparent: false)
    let bootBytes = try Self.usage(boot, apparent: true)
    let card = NetbootCapture.layout(bootFiles: bootBytes, rootTree: treeBytes, diskID: diskID)

    let disk = folder + "/card.img"
    let bootFAT = folder + "/boot.fat"
    let out = folder + "/out"
    let rootExt4 = out + "/root.ext4"
    try Files.makeDirectory(out, mode: 0o700)
    try Files.makeDirectory(folder + "/jail", mode: 0o700)
    try Command("truncate", ["-s", "\(card.totalBytes)", disk]).check()
    try Command("sfdisk", ["-q", "--no-reread", "--no-tell-kernel", disk]).check(input: Data(card.sfdisk.utf8))
    try makeBoot(
      bootFAT, files: boot, cmdline: NetbootCapture.cmdline(image: imageCmdline, layout: card), layout: card, scratch: folder)
    try Command("truncate", ["-s", "\(card.rootBytes)", rootExt4]).check()
    // A root the node changes while it is read can make mke2fs fail (a file gone between its
    // listing and its copy): the advice says what to do.
    let script = RemoteScript.cardRoot.command([
      ("JAIL", folder + "/jail"), ("SRC", merged), ("OUT", out), ("FILE", "root.ext4"), ("LABEL", "rootfs"),
    ])
    let made = try Command("unshare", ["--mount", "--propagation", "private", "--"] + script, timeout: 3600).run()
    guard made.status == 0 else {
      throw PiSwarmError(
        .system, "cannot copy \(node)'s root \(root) into a card filesystem (mke2fs status \(made.status))",
        advice:
          "the node may have changed its root during the copy: capture again, or switch it off first ('piswarm power off \(node)')",
        cause: made.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).terminalSafe)
    }
    for (file, start) in [(bootFAT, card.bootStart), (rootExt4, card.rootStart)] {
      try Command(
        "dd",
        [
          "if=\(file)", "of=\(disk)", "bs=4M", "oflag=seek_bytes", "seek=\(start * MBR.sectorSize)", "conv=notrunc,sparse",
          "status=none",
        ],
        timeout: 3600
      ).check()
      unlink(file)
    }
    return NetbootCardImage(
      path: disk, root: root, generation: generation.number, sourceImage: generation.image, layout: card,
      rootTreeBytes: treeBytes, bootFilesBytes: bootBytes)
  }

  /// The generation's path, checked: a folder inside the NFS root, reached by no link on the
  /// head's side, whose name can go into overlay options; an overlay root mounted.
  func checkedRoot(_ generation: RootGeneration) throws(PiSwarmError) -> String {
    let node = generation.node
    let nfsRoot = Self.resolved(layout.nfsRoot) ?? layout.nfsRoot
    var info = stat()
    guard let real = Self.resolved(generation.path), real.hasPrefix(nfsRoot + "/"), lstat(generation.path, &info) == 0,
      info.st_mode & S_IFMT == S_IFDIR
    else {
      throw PiSwarmError(
        .invalidInput, "\(node)'s root \(generation.path.terminalSafe) is not a folder inside the NFS root \(layout.nfsRoot)",
        advice: "see 'piswarm root ls \(node)'; piswarm captures only roots it made under head.nfs_root")
    }
    guard !real.contains(where: { $0 == ":" || $0 == "," || $0 == "\\" || $0 == "\n" }) else {
      throw PiSwarmError(
        .invalidInput, "\(node)'s root path \(real.terminalSafe) holds ':', ',' or '\\', which overlay mount options cannot take",
        advice: "move head.nfs_root to a plain path")
    }
    if generation.method == .overlay, !Filesystems.isMountPoint(real) {
      throw PiSwarmError(
        .notFound, "\(node)'s root \(real) is an overlay that is not mounted",
        advice: "mount it with 'piswarm root ensure', then capture again")
    }
    return real
  }

  /// Runs `body` with the store image's root filesystem mounted read-only: the lower layer
  /// overlay roots already use when it is mounted, else a mount of its own.
  func withImage(_ image: String, _ body: (String) throws(PiSwarmError) -> Void) throws(PiSwarmError) {
    if Filesystems.isMountPoint(layout.lower(image)) { return try body(layout.lower(image)) }
    try RootMaker(nfsRoot: layout.nfsRoot, stateDirectory: stateDirectory).withImageMounted(image, body)
  }

  /// The canonical path (no link, no `..`), nil when it does not exist.
  static func resolved(_ path: String) -> String? {
    guard let pointer = realpath(path, nil) else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
  }

  /// An overlay whiteout (a 0/0 character device) at `path` in piswarm's own top layer: the
  /// path is absent from the merged tree whatever the node's root holds there. Only where each
  /// folder above it is a folder in the node's root (looked at through its descriptor, no link
  /// followed): overlayfs hides whiteouts only in folders it merges, and where one is not a
  /// folder in the root nothing below it is either.
  func whiteout(_ path: String, in top: ConfinedRoot, over tree: ConfinedRoot) throws(PiSwarmError) {
    let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var folder = ""
    for component in parent.split(separator: "/") {
      folder += "/" + component
      guard try tree.kind(folder) == .directory else { return }
    }
    try top.makeDirectory(parent)
    try top.unlink(path)
    let full = top.path + path
    guard mknod(full, S_IFCHR | 0o000, 0) == 0 else {
      throw PiSwarmError(.system, "cannot make a whiteout at \(full): \(String(cString: strerror(errno)))")
    }
  }

  /// The FAT32 boot partition: the image's boot files, then the card's cmdline.txt over theirs.
  func makeBoot(
    _ file: String, files: String, cmdline: String, layout card: NetbootCapture.Layout, scratch: String
  ) throws(PiSwarmError) {
    try Command("truncate", ["-s", "\(card.bootBytes)", file]).check()
    try Command("mkfs.vfat", ["-F", "32", "-n", "bootfs", file]).check()
    let entries = ((try? FileManager.default.contentsOfDirectory(atPath: files)) ?? []).sorted()
    if !entries.isEmpty {
      try Command(
        "mcopy", ["-s", "-o", "-i", file] + entries.map { files + "/" + $0 } + ["::/"],
        environment: CardIdentityWriter.mtoolsEnvironment,
        timeout: 600
      ).check()
    }
    let cmdlineFile = scratch + "/cmdline.txt"
    try AtomicFile.write(cmdline, to: cmdlineFile, mode: 0o644)
    try Command("mcopy", ["-o", "-i", file, cmdlineFile, "::cmdline.txt"], environment: CardIdentityWriter.mtoolsEnvironment)
      .check()
  }

  /// Bytes used under `path` (du, links not followed); `apparent` for file sizes. Not `-x`:
  /// through a stacked overlay, files and folders of a lower layer show that layer's device,
  /// and `du -x` counts a few KiB for a whole root.
  static func usage(_ path: String, apparent: Bool) throws(PiSwarmError) -> UInt64 {
    let output = try Command("du", ["-s", "-B1"] + (apparent ? ["--apparent-size"] : []) + [path], timeout: 1800).run()
    // du reports files it cannot read (a live tree) but still sums the rest.
    guard let bytes = output.stdoutText.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap({ UInt64($0) })
    else {
      throw PiSwarmError(.system, "cannot measure \(path)", cause: output.stderrText.terminalSafe)
    }
    return bytes
  }
}
