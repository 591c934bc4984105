/// How a node's operating system gets there.
public enum BootMode: String, Sendable, CaseIterable, Codable {
  /// Diskless: boot files over TFTP, root over NFS, both served by piswarm.
  case netboot
  /// An SD card or USB disk written by `piswarm burn`.
  case sd
  /// The OS is already installed and running (machines piswarm did not provision, lab nodes).
  case preinstalled
}
