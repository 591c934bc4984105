/// The head's two registry instances.
public enum RegistryRole: String, CaseIterable, Sendable, Codable, Hashable {
  /// The private registry for the cluster's own images (`HEAD:PORT/app`): takes pushes.
  case `private`
  /// The pull-through cache (`proxy.remoteurl`): refuses pushes, so it is an instance of its own.
  case cache

  /// Its systemd unit, without `.service`.
  public var unit: String { self == .private ? "piswarm-registry" : "piswarm-registry-cache" }

  public func port(_ settings: RegistrySettings) -> Int { self == .private ? settings.port : settings.cachePort }
}

/// Where the head keeps the registry's files: `STATE/registry` (0700: the CA key is there),
/// the data under `registry.data` or `STATE/registry/data`.
public struct RegistryPaths: Hashable, Sendable {
  public var folder: String
  public var dataRoot: String

  public init(stateDirectory: String, settings: RegistrySettings) {
    folder = stateDirectory + "/registry"
    dataRoot = settings.data ?? folder + "/data"
  }

  public var caKey: String { folder + "/ca.key" }
  public var caCertificate: String { folder + "/ca.crt" }
  public var serverKey: String { folder + "/server.key" }
  public var serverCertificate: String { folder + "/server.crt" }
  /// The extensions the server certificate was issued with (its address): a new head address
  /// issues a new one.
  public var serverExtensions: String { folder + "/server.ext" }
  public func config(_ role: RegistryRole) -> String { folder + "/\(role.rawValue).yml" }
  public func data(_ role: RegistryRole) -> String { dataRoot + "/\(role.rawValue)" }
  /// Without systemd: the supervised process's PID and its log.
  public func pidFile(_ role: RegistryRole) -> String { folder + "/\(role.rawValue).pid" }
  public func log(_ role: RegistryRole) -> String { folder + "/\(role.rawValue).log" }
  public static func unitPath(_ role: RegistryRole) -> String { "/etc/systemd/system/\(role.unit).service" }
}

/// The files of the head's registry, rendered purely: distribution's configuration per
/// instance, its systemd unit, the server certificate's extensions.
public enum RegistryFiles {
  public static let executable = "/usr/bin/docker-registry"

  /// The command line of an instance.
  public static func arguments(_ role: RegistryRole, _ paths: RegistryPaths) -> [String] {
    [executable, "serve", paths.config(role)]
  }

  /// distribution 2.8's `config.yml` for `role`: listening on the head's address only, TLS from
  /// the cluster CA, data under `paths`; the cache adds `proxy.remoteurl`.
  public static func config(_ role: RegistryRole, cluster: Cluster, paths: RegistryPaths) -> String {
    let settings = cluster.registry
    var lines = [
      "# Written by piswarm for cluster \(cluster.name): the head's \(role == .private ? "private registry" : "pull-through cache").",
      "# 'piswarm up' rewrites it from cluster.yml (registry:); edit that instead.",
      "version: 0.1",
      "log:",
      "  level: info",
      "  accesslog:",
      "    disabled: false",
      "  fields:",
      "    service: \(role.unit)",
      "storage:",
      "  filesystem:",
      "    rootdirectory: \(YAMLText.scalar(paths.data(role)))",
      "  delete:",
      "    enabled: true",
      "  cache:",
      "    blobdescriptor: inmemory",
      "http:",
      "  addr: \(cluster.headHost):\(role.port(settings))",
      "  tls:",
      "    certificate: \(YAMLText.scalar(paths.serverCertificate))",
      "    key: \(YAMLText.scalar(paths.serverKey))",
      "  headers:",
      "    X-Content-Type-Options: [nosniff]",
      "health:",
      "  storagedriver:",
      "    enabled: true",
      "    interval: 10s",
      "    threshold: 3",
    ]
    if role == .cache {
      lines += ["proxy:", "  remoteurl: \(YAMLText.scalar(settings.upstream))"]
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The systemd unit of `role` (`/etc/systemd/system/UNIT.service`).
  public static func unit(_ role: RegistryRole, cluster: Cluster, paths: RegistryPaths) -> String {
    """
    # Written by piswarm for cluster \(cluster.name); 'piswarm up' rewrites it.
    [Unit]
    Description=piswarm \(role == .private ? "private registry" : "pull-through cache") (cluster \(cluster.name))
    Wants=network-online.target
    After=network-online.target
    # The cache asks its upstream at start and exits when it cannot reach it: keep trying.
    StartLimitIntervalSec=0

    [Service]
    ExecStart=\(arguments(role, paths).map(systemdWord).joined(separator: " "))
    Restart=on-failure
    RestartSec=5

    [Install]
    WantedBy=multi-user.target

    """
  }

  /// One word of a unit's command line: as it is when plain, else double-quoted with systemd's
  /// escapes (a state directory may hold spaces; `%` and `$` are systemd's specifiers).
  public static func systemdWord(_ word: String) -> String {
    let plain =
      !word.isEmpty && word.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "/._-+@:=,".unicodeScalars.contains($0) }
    if plain { return word }
    var out = "\""
    for scalar in word.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "%": out += "%%"
      case "$": out += "$$"
      case "\n": out += "\\n"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// openssl's extensions for the server certificate: a TLS server at the head's address.
  public static func serverExtensions(_ cluster: Cluster) -> String {
    """
    basicConstraints = critical, CA:FALSE
    keyUsage = critical, digitalSignature, keyEncipherment
    extendedKeyUsage = serverAuth
    subjectAltName = IP:\(cluster.headHost)

    """
  }

  /// The CA's subject: the cluster's name (a cluster name is plain: letters, digits, '-').
  public static func caSubject(_ cluster: Cluster) -> String { "/CN=piswarm \(cluster.name) registry CA" }
  public static func serverSubject(_ cluster: Cluster) -> String { "/CN=\(cluster.headHost)" }
}
