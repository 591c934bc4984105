/// The head's registry (`registry:` in cluster.yml): two instances of Debian's `docker-registry`
/// (distribution 2.8), a pull-through cache of Docker Hub (or `upstream`) and a private registry
/// for the cluster's own images, both over TLS from a cluster CA piswarm makes.
public struct RegistrySettings: Hashable, Sendable {
  /// Whether the head runs them (and nodes use them).
  public var enabled: Bool
  /// Where their data goes; nil: the state directory's `registry/data`.
  public var data: String?
  /// The private registry's port (`HEAD:5000/app`).
  public var port: Int
  /// The pull-through cache's port.
  public var cachePort: Int
  /// What the cache mirrors (`proxy.remoteurl`).
  public var upstream: String

  public static let defaultPort = 5000
  public static let defaultCachePort = 5001
  public static let defaultUpstream = "https://registry-1.docker.io"

  public init(
    enabled: Bool = false, data: String? = nil, port: Int = defaultPort, cachePort: Int = defaultCachePort,
    upstream: String = defaultUpstream
  ) {
    self.enabled = enabled
    self.data = data
    self.port = port
    self.cachePort = cachePort
    self.upstream = upstream
  }
}

extension Cluster {
  /// The head's address as nodes reach it (no prefix length).
  public var headHost: String { head.address.address.description }

  /// The private registry's `HOST:PORT` (how images are named: `HOST:PORT/app`).
  public var registryAddress: String { "\(headHost):\(registry.port)" }

  /// The cache's URL, as every node's daemon.json names it.
  public var registryCacheURL: String { "https://\(headHost):\(registry.cachePort)" }

  /// The folders of `/etc/docker/certs.d` on each node that get the cluster CA (`ca.crt`), so
  /// that dockerd trusts both instances; empty when the registry is off.
  public var registryTrustFolders: [String] {
    guard registry.enabled else { return [] }
    return [registry.port, registry.cachePort].map { "/etc/docker/certs.d/\(headHost):\($0)" }
  }

  /// Every node's `registry-mirrors`: the head's cache first (when the registry is on), then
  /// the mirrors of docker.registry_mirrors. Docker uses mirrors for Docker Hub images only.
  public var registryMirrors: [String] {
    (registry.enabled ? [registryCacheURL] : []) + docker.registryMirrors
  }
}
