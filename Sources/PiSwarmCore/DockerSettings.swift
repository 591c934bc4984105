/// How every node's dockerd is configured (its daemon.json), beyond storage.
public struct DockerSettings: Hashable, Sendable {
  /// Registry mirrors (`https://…`), tried before Docker Hub, after the head's cache when the
  /// registry is on (`head` in registry_mirrors asks for it; it is not in this list).
  public var registryMirrors: [String]
  /// json-file log rotation: the size at which a container's log is rotated (Docker's format:
  /// a number with k, m or g) and how many files are kept.
  public var logMaxSize: String
  public var logMaxFiles: Int

  public static let defaultLogMaxSize = "10m"
  public static let defaultLogMaxFiles = 3

  public init(registryMirrors: [String] = [], logMaxSize: String = defaultLogMaxSize, logMaxFiles: Int = defaultLogMaxFiles) {
    self.registryMirrors = registryMirrors
    self.logMaxSize = logMaxSize
    self.logMaxFiles = logMaxFiles
  }
}
