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

  /// The phase a sent file stands for, by its name.
  public static func of(file path: String) -> BootPhase? {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    if name == "bootcode.bin" || (name.hasPrefix("start") && name.hasSuffix(".elf")) { return .firmware }
    if (name.hasPrefix("kernel") && name.hasSuffix(".img")) || name == "Image" || name.hasPrefix("vmlinuz") { return .kernel }
    return nil
  }
}
