import Foundation
import PiSwarmCore
import PiSwarmSystem

/// A small disk image of the shape Raspberry Pi OS ships: an MBR, a FAT32 boot partition with
/// firmware-named files, an ext4 root with os-release, hostname, ssh host keys and kernel
/// modules. Built with mkfs.vfat, mcopy and mkfs.ext4 -d; the MBR is written here.
public enum TestImage {
  public static let osRelease = "Raspbian GNU/Linux 12 (bookworm)"
  public static let kernelVersion = "6.6.51+rpt-rpi-v8"
  public static let bootFiles = [
    "bootcode.bin", "start4.elf", "fixup4.dat", "kernel8.img", "kernel_2712.img", "bcm2711-rpi-4-b.dtb",
    "overlays/vc4-kms-v3d.dtbo", "overlays/README", "config.txt", "cmdline.txt",
  ]
  /// Sizes of the partitions, in MiB. FAT32 needs at least ~33 MiB.
  public static let bootMiB: UInt64 = 40
  public static let rootMiB: UInt64 = 24

  /// The two partitions of the image, at 4 MiB and after the boot partition.
  public static func partitions(bootType: UInt8 = 0x0c, rootMiB: UInt64 = TestImage.rootMiB) -> [MBR.Partition] {
    let boot = MBR.Partition(number: 1, type: bootType, firstSector: 8192, sectorCount: bootMiB * 2048)
    let root = MBR.Partition(number: 2, type: 0x83, firstSector: 8192 + bootMiB * 2048, sectorCount: rootMiB * 2048)
    return [boot, root]
  }

  /// Builds the image at `path` (raw), using `scratch` for its pieces. `sector` overrides the
  /// first sector (for malformed tables). `rootTree` replaces the small made-up root with a real
  /// one (a bootable root for the end-to-end test), in a root partition of `rootMiB`.
  public static func make(
    at path: String, scratch: String, sector: [UInt8]? = nil, rootTree: String? = nil, rootMiB: UInt64 = TestImage.rootMiB
  ) throws {
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let bootDir = scratch + "/bootfiles"
    let rootDir = scratch + "/rootfiles"
    for file in bootFiles {
      let target = bootDir + "/" + file
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      let content: String
      switch file {
      case "config.txt": content = "arm_64bit=1\nenable_uart=1\n"
      case "cmdline.txt": content = "console=serial0,115200 root=PARTUUID=5049535a-02 rootfstype=ext4 rootwait\n"
      default: content = "firmware \(file)\n" + String(repeating: "x", count: 3000)
      }
      try content.write(toFile: target, atomically: false, encoding: .utf8)
    }
    let rootFiles: [String: String] = [
      "etc/os-release": "PRETTY_NAME=\"\(osRelease)\"\nNAME=\"Raspbian GNU/Linux\"\nVERSION_ID=\"12\"\nID=raspbian\n",
      "etc/hostname": "raspberrypi\n",
      "etc/hosts": "127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n",
      "etc/fstab": "proc /proc proc defaults 0 0\nPARTUUID=5049535a-01 /boot/firmware vfat defaults 0 2\n",
      "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
      "var/lib/dbus/machine-id": "0123456789abcdef0123456789abcdef\n",
      "etc/ssh/sshd_config": "PermitRootLogin prohibit-password\n",
      "etc/ssh/ssh_host_ed25519_key": "base image private key\n",
      "etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAAbase root@raspberrypi\n",
      "etc/ssh/ssh_host_rsa_key": "base image rsa key\n",
      "lib/modules/\(kernelVersion)/modules.dep": "",
      "lib/modules/\(kernelVersion)/kernel/drivers/net/vxlan.ko": "module\n",
      "var/lib/docker/stale": "from the base image\n",
      "usr/share/doc/readme": String(repeating: "piswarm test image\n", count: 2000),
    ]
    for (file, content) in rootFiles {
      let target = rootDir + "/" + file
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try content.write(toFile: target, atomically: false, encoding: .utf8)
    }
    try FileManager.default.createDirectory(atPath: rootDir + "/usr/bin", withIntermediateDirectories: true)
    for binary in ["/bin/true", "/bin/sh"] {
      try? FileManager.default.copyItem(atPath: binary, toPath: rootDir + "/usr/bin/" + (binary as NSString).lastPathComponent)
    }
    try FileManager.default.createDirectory(atPath: rootDir + "/root", withIntermediateDirectories: true)

    let fat = scratch + "/boot.fat"
    let ext4 = scratch + "/root.ext4"
    try Command("truncate", ["-s", "\(bootMiB)M", fat]).check()
    try Command("mkfs.vfat", ["-F", "32", "-n", "BOOTFS", fat]).check()
    var environment = ProcessInfo.processInfo.environment
    environment["MTOOLS_SKIP_CHECK"] = "1"
    let top = try FileManager.default.contentsOfDirectory(atPath: bootDir).sorted().map { bootDir + "/" + $0 }
    try Command("mcopy", ["-s", "-i", fat] + top + ["::/"], environment: environment).check()
    try Command("mkfs.ext4", ["-q", "-F", "-L", "rootfs", "-d", rootTree ?? rootDir, ext4, "\(rootMiB)M"]).check()

    let layout = partitions(rootMiB: rootMiB)
    _ = FileManager.default.createFile(atPath: path, contents: Data(sector ?? MBR.encode(layout)))
    guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteUnknown) }
    defer { try? handle.close() }
    for (partition, file) in zip(layout, [fat, ext4]) {
      try handle.seek(toOffset: partition.offset)
      try handle.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: file)))
    }
    try handle.truncate(atOffset: layout[1].end)
  }
}
