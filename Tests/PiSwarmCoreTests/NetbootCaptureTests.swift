import PiSwarmCore
import PiSwarmTestSupport
import Testing

/// The pure half of capturing a netboot node as a card image: the partition table, the card's
/// cmdline.txt and fstab from the image's, and what the card leaves out or takes from the image.
@Suite struct NetbootCaptureTests {
  func golden(_ text: String, _ name: String) {
    if let problem = Golden.check(text, named: name) { Issue.record(Comment(rawValue: problem)) }
  }

  /// Raspberry Pi OS Bookworm's cmdline.txt, as the store keeps it (the image's own).
  static let piOSCmdline =
    "console=serial0,115200 console=tty1 root=PARTUUID=5049535a-02 rootfstype=ext4 fsck.repair=yes rootwait quiet resize init=/usr/lib/raspberrypi-sys-mods/firstboot\n"
  static let piOSFstab = """
    proc            /proc           proc    defaults          0       0
    PARTUUID=5049535a-01  /boot/firmware  vfat    defaults          0       2
    PARTUUID=5049535a-02  /               ext4    defaults,noatime  0       1

    """

  @Test func theLayoutIsAlignedAndLeavesRoomAndItsTableMatchesGolden() {
    let layout = NetbootCapture.layout(bootFiles: 60 << 20, rootTree: 1_500_000_000, diskID: 0x5049_535a)
    #expect(layout.bootStart == 8192 && layout.bootSectors == 256 * 2048, "at 4 MiB, 256 MiB as Pi OS's")
    #expect(layout.rootStart == layout.bootStart + layout.bootSectors)
    #expect(layout.rootSectors % 8192 == 0 && layout.rootBytes >= 1_500_000_000 * 5 / 4 + (512 << 20))
    #expect(layout.totalBytes == (layout.rootStart + layout.rootSectors) * 512)
    golden(layout.sfdisk, "netboot-capture.sfdisk")
    // Large boot files get a larger partition; a small disk identifier keeps its 8 digits.
    let big = NetbootCapture.layout(bootFiles: 400 << 20, rootTree: 0, diskID: 0xab)
    #expect(big.bootBytes >= 500 << 20 && big.bootBytes % (4 << 20) == 0)
    #expect(big.diskIDText == "000000ab" && big.sfdisk.contains("label-id: 0x000000ab\n"))
  }

  @Test func theCardsCmdlinePointsAtItsRootPartitionAndKeepsTheImagesOtherWords() {
    let layout = NetbootCapture.layout(bootFiles: 0, rootTree: 0, diskID: 0x5049_535a)
    #expect(NetbootCapture.diskID(cmdline: Self.piOSCmdline) == 0x5049_535a)
    let text = NetbootCapture.cmdline(image: Self.piOSCmdline, layout: layout)
    golden(text, "netboot-capture-cmdline.txt")
    // A netboot cmdline (what a TFTP folder holds) loses its NFS words; the root is the card's.
    let other = NetbootCapture.layout(bootFiles: 0, rootTree: 0, diskID: 0x0102_0304)
    let netboot = "console=serial0,115200 root=/dev/nfs nfsroot=10.0.0.1:/srv/nfs/node04,vers=3,tcp ip=dhcp rw rootwait\n"
    #expect(NetbootCapture.diskID(cmdline: netboot) == nil)
    #expect(
      NetbootCapture.cmdline(image: netboot, layout: other)
        == "console=serial0,115200 root=PARTUUID=01020304-02 rootfstype=ext4 rootwait rw\n")
    #expect(NetbootCapture.cmdline(image: "", layout: other) == "root=PARTUUID=01020304-02 rootfstype=ext4 rootwait\n")
  }

  @Test func theCardsFstabIsTheImagesOrPiOSsNeverTheNodesNFSOne() {
    let same = NetbootCapture.layout(bootFiles: 0, rootTree: 0, diskID: 0x5049_535a)
    #expect(
      NetbootCapture.fstab(image: Self.piOSFstab, imageDiskID: 0x5049_535a, layout: same, bootMount: "/boot/firmware")
        == Self.piOSFstab)
    let other = NetbootCapture.layout(bootFiles: 0, rootTree: 0, diskID: 0x0102_0304)
    let moved = NetbootCapture.fstab(image: Self.piOSFstab, imageDiskID: 0x5049_535a, layout: other, bootMount: "/boot/firmware")
    #expect(moved.contains("PARTUUID=01020304-01  /boot/firmware") && moved.contains("PARTUUID=01020304-02  /   "))
    #expect(!moved.contains("5049535a"))
    // An image without a local root line (or the node's own NFS fstab): Pi OS's lines.
    let nfs = "proc /proc proc defaults 0 0\n10.0.0.1:/srv/nfs/node04 / nfs defaults,nfsvers=3,tcp 0 0\n"
    let rendered = NetbootCapture.fstab(image: nfs, imageDiskID: nil, layout: other, bootMount: "/boot/firmware")
    golden(rendered, "netboot-capture-fstab")
    #expect(NetbootCapture.fstab(image: nil, imageDiskID: nil, layout: other, bootMount: "/boot/firmware") == rendered)
    #expect(NetbootCapture.fstab(image: nil, imageDiskID: nil, layout: other, bootMount: "/boot").contains("-01  /boot  vfat"))
  }

  @Test func theNodesIdentityAndDisklessChangesAreLeftOutOrTakenFromTheImage() {
    let paths =
      "left out:\n" + NetbootCapture.leftOut.map { "  \($0)\n" }.joined() + "as the image has them:\n"
      + NetbootCapture.restored.map { "  \($0)\n" }.joined()
    golden(paths, "netboot-capture-paths.txt")
    for path in [
      "/etc/ssh/ssh_host_ed25519_key", "/var/lib/cloud", "/var/lib/docker", "/var/lib/containerd", DockerStorageLayout.base,
    ] {
      #expect(NetbootCapture.leftOut.contains(path), "\(path)")
    }
    // Every file piswarm writes for a diskless boot or as the identity is undone, but the SSH
    // unit (kept on) and fstab and machine-id (rendered / emptied).
    let identity = NodeIdentity(
      node: "node04", ip: IPv4Address(0x0a00_0004), headIP: IPv4Address(0x0a00_0001), nfsPath: "/srv/nfs/node04",
      authorizedKey: "ssh-ed25519 AAAA cluster", dockerStorage: .loopfile(ByteSize(bytes: 2 << 30)))
    let contents = NetbootOS.Contents(
      networkManager: true, cloudInit: true, interfaces: "auto eth0\niface eth0 inet dhcp\n", systemd: true,
      units: Dictionary(uniqueKeysWithValues: NetbootOS.knownUnits.map { ($0, "/lib/systemd/system/" + $0) }),
      enabled: Set(NetbootOS.knownUnits))
    let written =
      NetbootOS.changes(for: contents, node: "node04", mac: nil).map(\.path)
      + identity.files.map(\.path)
    let handled = Set(NetbootCapture.restored + NetbootCapture.leftOut + ["/etc/fstab", NetbootCapture.machineIDPath])
    let kept = written.filter { !handled.contains($0) }
    #expect(kept == [NetbootOS.wantsFolder + "/ssh.service", "/root/.ssh/authorized_keys"], "\(kept)")
  }

  @Test func theWarningSaysWhatACopyOfALiveRootIs() {
    #expect(NetbootCapture.warning(node: "node04", freeze: false, synced: nil).contains("crash-consistent"))
    #expect(NetbootCapture.warning(node: "node04", freeze: true, synced: true).contains("cannot be frozen"))
    #expect(NetbootCapture.warning(node: "node04", freeze: true, synced: false).contains("could not be told to sync"))
  }
}
