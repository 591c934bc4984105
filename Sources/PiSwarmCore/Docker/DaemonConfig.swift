import Foundation

/// A node's `/etc/docker/daemon.json`: piswarm owns a few keys and keeps everything else the
/// file already holds. Pure.
///
/// Owned: the engine labels `piswarm.cluster` and `piswarm.node` (identity only; the user's
/// labels from cluster.yml are swarm node labels, applied through the API, so changing them never
/// restarts dockerd), json-file log rotation, the registry mirrors (the head's cache first when
/// the registry is on; Docker asks mirrors for Docker Hub images only, never for `HOST:PORT/…`
/// names), and the data root when the storage is mounted over `/var/lib/docker`.
public enum DaemonConfig {
  public static let path = "/etc/docker/daemon.json"
  /// Engine label keys piswarm owns; other labels are kept.
  public static let ownedLabels = ["piswarm.cluster", "piswarm.node"]

  public struct Settings: Hashable, Sendable {
    public var cluster: String
    public var node: String
    public var docker: DockerSettings
    /// The mirrors in order: the head's cache (when the registry is on), then docker.registry_mirrors.
    public var mirrors: [String]
    /// Whether Docker's storage is a piswarm mount over `/var/lib/docker` (then the data root
    /// must be there).
    public var mountedStorage: Bool

    public init(cluster: String, node: String, docker: DockerSettings, mirrors: [String]? = nil, mountedStorage: Bool) {
      self.cluster = cluster
      self.node = node
      self.docker = docker
      self.mirrors = mirrors ?? docker.registryMirrors
      self.mountedStorage = mountedStorage
    }

    public init(_ cluster: Cluster, _ node: Node) {
      self.init(
        cluster: cluster.name, node: node.name, docker: cluster.docker, mirrors: cluster.registryMirrors,
        mountedStorage: node.dockerStorage != .root)
    }
  }

  /// The file's new text: `existing` (nil or blank when there is none) with piswarm's keys set.
  /// Throws when `existing` is not a JSON object: piswarm never overwrites a file it cannot read.
  public static func render(existing: String?, _ settings: Settings) throws(PiSwarmError) -> String {
    var config: [String: JSONValue] = [:]
    if let existing, !existing.allSatisfy(\.isWhitespace) {
      guard case .object(let object)? = JSONValue.parse(existing) else {
        throw PiSwarmError(
          .invalidInput, "\(path) on \(settings.node) is not a JSON object",
          advice: "fix or remove the file on the node, then run again; piswarm keeps the keys it does not own")
      }
      config = object
    }
    var labels: [JSONValue] = []
    if case .array(let old)? = config["labels"] {
      labels = old.filter { value in
        guard case .string(let label) = value else { return true }
        return !ownedLabels.contains(String(label.prefix { $0 != "=" }))
      }
    }
    labels += [.string("piswarm.cluster=\(settings.cluster)"), .string("piswarm.node=\(settings.node)")]
    config["labels"] = .array(labels)
    config["log-driver"] = .string("json-file")
    config["log-opts"] = .object([
      "max-size": .string(settings.docker.logMaxSize), "max-file": .string(String(settings.docker.logMaxFiles)),
    ])
    config["registry-mirrors"] = .array(settings.mirrors.map(JSONValue.string))
    if settings.mountedStorage { config["data-root"] = .string(DockerStorageLayout.dataRoot) }
    return JSONValue.object(config).rendered()
  }
}
