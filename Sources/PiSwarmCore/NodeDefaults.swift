public struct NodeDefaults: Hashable, Sendable {
  public var boot: BootMode
  public var image: String?
  /// Nil means "by boot mode": `loopfile:16G` for netboot (NFS root), `root` otherwise.
  public var dockerStorage: DockerStorage?
  public var power: PowerConfig
  /// Words added to every netboot node's kernel command line (`cmdline.txt`).
  public var cmdlineExtra: String? = nil
  /// Pi 4/5 bootloader settings and images (`eeprom:`), under each node's own.
  public var eeprom = EEPROMConfig()

  public static let netbootStorage = DockerStorage.loopfile(.gibibytes(16))
}
