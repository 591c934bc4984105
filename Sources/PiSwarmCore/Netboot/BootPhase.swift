import Foundation

/// How far a node got in its last boot, from the boot events: seen (DHCP/PXE) → firmware (TFTP of
/// `start*.elf`/`bootcode.bin`) → kernel (TFTP of the kernel) → NFS root → SSH up.
public enum BootPhase: String, Sendable, Codable, CaseIterable, Comparable {
  case seen
  case firmware
  case kernel
  /// Not observed directly (the NFS server is not watched); inferred from SSH answering.
  case nfsRoot = "nfs-root"
  case ssh

  public static func < (lhs: BootPhase, rhs: BootPhase) -> Bool {
    allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
  }

  /// The phase a sent file stands for, by its name. A Pi 5 has no `start*.elf`: its firmware
  /// phase is its device tree (`bcm2712*.dtb`).
  public static func of(file path: String) -> BootPhase? {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    if name == "bootcode.bin" || (name.hasPrefix("start") && name.hasSuffix(".elf")) { return .firmware }
    if name.hasPrefix("bcm2712") && name.hasSuffix(".dtb") { return .firmware }
    if (name.hasPrefix("kernel") && name.hasSuffix(".img")) || name == "Image" || name.hasPrefix("vmlinuz") { return .kernel }
    return nil
  }

  /// The same names as shell `case` patterns, for the dnsmasq hook's filter (a superset is
  /// harmless: `of(file:)` decides).
  public static let hookPatterns = ["bootcode.bin", "start*.elf", "bcm2712*.dtb", "kernel*.img", "Image", "vmlinuz*"]
}
