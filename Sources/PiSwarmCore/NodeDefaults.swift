public struct NodeDefaults: Hashable, Sendable {
  public var boot: BootMode
  public var image: String?
  /// Nil means "by boot mode": `loopfile:16G` for netboot (NFS root), `root` otherwise.
  public var dockerStorage: DockerStorage?
  public var power: PowerConfig
  /// Words added to every netboot node's kernel command line (`cmdline.txt`).
  public var cmdlineExtra: String? = nil

  public static let netbootStorage = DockerStorage.loopfile(.gibibytes(16))
}
