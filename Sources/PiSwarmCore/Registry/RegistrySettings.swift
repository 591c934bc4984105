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
  /// Whether the head runs the pull-through cache at all (`registry.cache`). distribution 2.8's
  /// cache exits when it cannot reach `upstream` at start: a head without internet that only
  /// needs its private registry says `cache: false`.
  public var cache: Bool

  public static let defaultPort = 5000
  public static let defaultCachePort = 5001
  public static let defaultUpstream = "https://registry-1.docker.io"

  public init(
    enabled: Bool = false, data: String? = nil, port: Int = defaultPort, cachePort: Int = defaultCachePort,
    upstream: String = defaultUpstream, cache: Bool = true
  ) {
    self.enabled = enabled
    self.data = data
    self.port = port
    self.cachePort = cachePort
    self.upstream = upstream
    self.cache = cache
  }

  /// The instances the head runs: the private registry, and the cache unless `cache: false`
  /// (none when the registry is off).
  public var roles: [RegistryRole] {
    guard enabled else { return [] }
    return cache ? RegistryRole.allCases : [.private]
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
  /// that dockerd trusts the instances the head runs; empty when the registry is off.
  public var registryTrustFolders: [String] {
    return registry.roles.map { $0.port(registry) }.map { "/etc/docker/certs.d/\(headHost):\($0)" }
  }

  /// Every node's `registry-mirrors`: the head's cache first (when it runs), then
  /// the mirrors of docker.registry_mirrors. Docker uses mirrors for Docker Hub images only.
  public var registryMirrors: [String] {
    (registry.roles.contains(.cache) ? [registryCacheURL] : []) + docker.registryMirrors
  }
}
