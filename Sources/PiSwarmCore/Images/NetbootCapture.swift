/// A card image made from a netboot node's root on the head (`piswarm image capture` of a
/// `boot: netboot` node): an MBR, a FAT32 boot partition with the boot files of the image the
/// root was made from (the store's copy, never the node's) and a card's `cmdline.txt`, and an
/// ext4 root partition holding the node's root tree without what makes it that node or a
/// diskless node. What is left out, what is put back as the image has it, and the partition
/// table, `cmdline.txt` and `fstab` are decided here, purely; PiSwarmImages builds the files.
public enum NetbootCapture {
  /// Trees and files of the node's root that the card image leaves out: its identity (SSH host
  /// keys, the D-Bus machine-id copy, systemd's random seed), cloud-init's record of the
  /// instance it ran as (a card must run it again as its own), the Docker engine and its swarm
  /// state (`/var/lib/docker`, `/var/lib/containerd`, the engine's `key.json`) and piswarm's
  /// Docker storage of a diskless node (`/var/lib/piswarm-node`: the loop file, large, holding
  /// the swarm identity, and its mount point and mode marker; a card keeps Docker on its root).
  public static let leftOut: [String] =
    NodeIdentity.removedFromBase + [
      "/var/lib/systemd/random-seed", "/var/lib/cloud", DockerStorageLayout.dataRoot, DockerStorageLayout.containerdRoot,
      "/etc/docker/key.json", DockerStorageLayout.base,
    ]

  /// Files piswarm wrote into the root for a diskless boot (`NetbootOS`) or as the node's
  /// identity (`NodeIdentity`): each is put back as the source image has it, or left out where
  /// the image has none. That undoes them all: NetworkManager manages eth0 again, cloud-init
  /// runs, the journal is persistent, the swap and first-boot units are as shipped, the host
  /// name and hosts are the image's (burn gives each card its own), networkd's rule for the
  /// NFS interface and Docker's storage drop-in go, and so does the node's daemon.json (its
  /// labels name it; `up` writes each card's own). The SSH unit stays enabled: a card is
  /// reached over SSH (burn turns it on too). `/etc/fstab` is not here: `fstab` renders it.
  public static var restored: [String] {
    var paths = [
      NetbootOS.networkManagerConf, NetbootOS.interfacesFile, NetbootOS.cloudInitDisabled, NetbootOS.journaldConf,
      "/etc/hostname", "/etc/hosts", NodeIdentity.networkFile, DockerStorageLayout.systemdDropIn, DaemonConfig.path,
    ]
    for unit in NetbootOS.swapUnits + NetbootOS.firstBootUnits {
      paths += ["/etc/systemd/system/" + unit, NetbootOS.wantsFolder + "/" + unit]
    }
    return paths
  }

  /// `/etc/machine-id` on the card: empty, as Raspberry Pi OS images ship it (systemd makes
  /// one at first boot; burn writes a fresh one).
  public static let machineIDPath = "/etc/machine-id"

  /// The card's partitions, in 512-byte sectors.
  public struct Layout: Hashable, Sendable, Codable {
    public var diskID: UInt32
    public var bootStart: UInt64
    public var bootSectors: UInt64
    public var rootStart: UInt64
    public var rootSectors: UInt64

    public var bootBytes: UInt64 { bootSectors * MBR.sectorSize }
    public var rootBytes: UInt64 { rootSectors * MBR.sectorSize }
    /// The image's size: up to the end of the root partition.
    public var totalBytes: UInt64 { (rootStart + rootSectors) * MBR.sectorSize }
    /// `XXXXXXXX`: the disk identifier as PARTUUIDs spell it.
    public var diskIDText: String { NetbootCapture.hex8(diskID) }

    /// sfdisk's input for the table: DOS label with the disk identifier, FAT32 (LBA) boot, Linux root.
    public var sfdisk: String {
      """
      label: dos
      label-id: 0x\(diskIDText)
      unit: sectors

      start=\(bootStart), size=\(bootSectors), type=c
      start=\(rootStart), size=\(rootSectors), type=83

      """
    }
  }

  static let mebibyte: UInt64 = 1 << 20
  /// Partitions start and end on 4 MiB boundaries (erase blocks of SD cards), the boot
  /// partition at 4 MiB as on Raspberry Pi OS images.
  static let alignment: UInt64 = 4 * mebibyte

  /// The layout for boot files of `bootFiles` bytes and a root tree using `rootTree` bytes: the
  /// boot partition at least 256 MiB (as the image's), the root partition the tree plus a
  /// quarter and 512 MiB (the filesystem's own tables and journal, and room for the first
  /// boot; a card is grown to its size by the OS or by hand).
  public static func layout(bootFiles: UInt64, rootTree: UInt64, diskID: UInt32) -> Layout {
    func aligned(_ bytes: UInt64) -> UInt64 { (bytes + alignment - 1) / alignment * alignment }
    let boot = aligned(max(256 * mebibyte, bootFiles + bootFiles / 4 + 32 * mebibyte))
    let root = aligned(rootTree + rootTree / 4 + 512 * mebibyte)
    let bootStart = alignment / MBR.sectorSize
    return Layout(
      diskID: diskID, bootStart: bootStart, bootSectors: boot / MBR.sectorSize, rootStart: bootStart + boot / MBR.sectorSize,
      rootSectors: root / MBR.sectorSize)
  }

  /// The disk identifier of `root=PARTUUID=XXXXXXXX-NN` in a cmdline.txt (the image's), if any:
  /// the card keeps it, so the image's own fstab names the card's partitions.
  public static func diskID(cmdline: String) -> UInt32? {
    for word in firstLine(cmdline).split(separator: " ") where word.hasPrefix("root=PARTUUID=") {
      let value = word.dropFirst("root=PARTUUID=".count)
      let parts = value.split(separator: "-")
      guard parts.count == 2, parts[0].count == 8, let id = UInt32(parts[0], radix: 16) else { return nil }
      return id
    }
    return nil
  }

  /// Words of a diskless boot that a card must not have (the root over NFS, the initramfs's
  /// network configuration), and the root words the card gets anew.
  static let replacedWords: Set<String> = ["root", "nfsroot", "ip", "rootfstype", "rootwait"]

  /// The card's `cmdline.txt` from the image's: the root on the card's second partition by
  /// PARTUUID (where the image's `root=` was, else at the end), every other word as the image
  /// has it (its first-boot words included: burn decides about those, as for the image).
  public static func cmdline(image: String, layout: Layout) -> String {
    let root = ["root=PARTUUID=\(layout.diskIDText)-02", "rootfstype=ext4", "rootwait"]
    var words: [String] = []
    var placed = false
    for word in firstLine(image).split(separator: " ").map(String.init) {
      let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
      guard replacedWords.contains(name) else {
        words.append(word)
        continue
      }
      if name == "root", !placed {
        words += root
        placed = true
      }
    }
    if !placed { words += root }
    return words.joined(separator: " ") + "\n"
  }

  /// The card's `/etc/fstab`: the image's when it mounts its root from a partition (its
  /// PARTUUIDs moved to the card's disk identifier if they differ), else Raspberry Pi OS's
  /// three lines for the card (proc, the boot partition at `bootMount`, the root). The node's
  /// own fstab (the NFS root, the Docker storage block) is never carried.
  public static func fstab(image: String?, imageDiskID: UInt32?, layout: Layout, bootMount: String) -> String {
    if let image, mountsRootFromAPartition(image) {
      guard let old = imageDiskID, old != layout.diskID else { return image }
      return image.replacingOccurrences(of: "PARTUUID=\(hex8(old))-", with: "PARTUUID=\(layout.diskIDText)-")
    }
    let id = layout.diskIDText
    return """
      # Written by piswarm image capture: the card's partitions.
      proc            /proc           proc    defaults          0       0
      PARTUUID=\(id)-01  \(bootMount)  vfat    defaults          0       2
      PARTUUID=\(id)-02  /               ext4    defaults,noatime  0       1

      """
  }

  /// Whether an fstab mounts `/` from something other than NFS.
  static func mountsRootFromAPartition(_ fstab: String) -> Bool {
    fstab.split(separator: "\n").contains { line in
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count >= 3, !fields[0].hasPrefix("#") else { return false }
      return fields[1] == "/" && !fields[2].hasPrefix("nfs") && !fields[0].contains(":/")
    }
  }

  /// What a capture of a diskless node warns about: the root is copied while the node runs.
  public static func warning(node: String, freeze: Bool, synced: Bool?) -> String {
    let live =
      "the copy is crash-consistent (like a power cut), not clean; switch \(node) off first ('piswarm power off \(node)') for a clean copy"
    if freeze {
      if synced == true {
        return
          "\(node): its root is on NFS, which cannot be frozen (fsfreeze works on local disks only): the node was told to sync, and its root is copied live; \(live)"
      }
      return "\(node): does not answer over SSH, so it could not be told to sync: its root is copied as the head has it; \(live)"
    }
    return
      "\(node): warning: its root is copied from the head while the node may be writing to it; \(live), or --freeze to sync first"
  }

  static func firstLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
  }

  static func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }
}
