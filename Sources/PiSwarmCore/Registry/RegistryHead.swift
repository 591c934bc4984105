/// The head's registry services as `plan` and `up` see them: what was read on the head
/// (`State`), and what to change (`Plan`), decided purely. The action is "registry on head";
/// a second `up` finds nothing to do.
public enum RegistryHead {
  /// What was read on the head. Never a key: only whether one is there.
  public struct State: Sendable, Equatable {
    /// `docker-registry` is installed.
    public var installed: Bool
    /// apt-get is there to install it.
    public var apt: Bool
    /// systemd runs the services; else piswarm starts them itself (supervised by PID).
    public var systemd: Bool
    /// The cluster CA's certificate (public), when there is one; its key is there too.
    public var caCertificate: String?
    /// The server certificate is there, issued by that CA, and valid for 30 days more.
    public var serverValid: Bool
    /// The extensions the server certificate was issued with.
    public var serverExtensions: String?
    /// Each instance's configuration file as it is.
    public var configs: [RegistryRole: String]
    /// Each instance's systemd unit as it is (systemd only).
    public var units: [RegistryRole: String]
    /// Which instances run (systemd: active; else the PID in their PID file is theirs).
    public var running: Set<RegistryRole>
    /// Debian's own docker-registry.service runs (it takes port 5000 on every address).
    public var packageService: Bool

    public init(
      installed: Bool = true, apt: Bool = true, systemd: Bool = false, caCertificate: String? = nil, serverValid: Bool = false,
      serverExtensions: String? = nil, configs: [RegistryRole: String] = [:], units: [RegistryRole: String] = [:],
      running: Set<RegistryRole> = [], packageService: Bool = false
    ) {
      self.installed = installed
      self.apt = apt
      self.systemd = systemd
      self.caCertificate = caCertificate
      self.serverValid = serverValid
      self.serverExtensions = serverExtensions
      self.configs = configs
      self.units = units
      self.running = running
      self.packageService = packageService
    }
  }

  public struct Plan: Sendable, Equatable {
    public var install = false
    /// Stop and disable Debian's docker-registry.service.
    public var stopPackageService = false
    public var makeCA = false
    public var issueServerCertificate = false
    /// Files to write, by instance.
    public var configs: [RegistryRole: String] = [:]
    public var units: [RegistryRole: String] = [:]
    /// Instances to (re)start, in this order.
    public var start: [RegistryRole] = []
    /// Instances to stop (the registry was turned off).
    public var stop: [RegistryRole] = []

    public init() {}

    public var isEmpty: Bool {
      !install && !stopPackageService && !makeCA && !issueServerCertificate && configs.isEmpty && units.isEmpty && start.isEmpty
        && stop.isEmpty
    }

    /// In words, for `plan`, `up` and the journal.
    public var actions: [String] {
      var words: [String] = []
      if install { words.append("install docker-registry") }
      if stopPackageService { words.append("stop Debian's docker-registry.service") }
      if makeCA { words.append("make the cluster CA") }
      if issueServerCertificate { words.append("issue the server certificate") }
      for role in RegistryRole.allCases where configs[role] != nil || units[role] != nil {
        words.append("\(role.rawValue) config")
      }
      for role in start { words.append("start \(role.rawValue)") }
      for role in stop { words.append("stop \(role.rawValue)") }
      return words
    }
  }

  /// What to change on the head for `cluster`. Throws when it cannot be done (no
  /// docker-registry and no apt-get to install it).
  public static func plan(_ state: State, cluster: Cluster, paths: RegistryPaths) throws(PiSwarmError) -> Plan {
    var plan = Plan()
    let roles = cluster.registry.roles
    // The registry turned off, or the cache turned off (registry.cache: false).
    plan.stop = RegistryRole.allCases.filter { !roles.contains($0) && state.running.contains($0) }
    guard cluster.registry.enabled else { return plan }
    if !state.installed {
      guard state.apt else {
        throw PiSwarmError(
          .invalidInput, "docker-registry is not installed on the head and it has no apt-get",
          advice: "install Docker's registry (distribution 2.8, /usr/bin/docker-registry) on the head, or set registry: false")
      }
      plan.install = true
    }
    plan.stopPackageService = state.packageService
    plan.makeCA = state.caCertificate == nil
    let extensions = RegistryFiles.serverExtensions(cluster)
    plan.issueServerCertificate = plan.makeCA || !state.serverValid || state.serverExtensions != extensions
    for role in roles {
      let config = RegistryFiles.config(role, cluster: cluster, paths: paths)
      if state.configs[role] != config { plan.configs[role] = config }
      if state.systemd {
        let unit = RegistryFiles.unit(role, cluster: cluster, paths: paths)
        if state.units[role] != unit { plan.units[role] = unit }
      }
      let changed = plan.configs[role] != nil || plan.units[role] != nil || plan.issueServerCertificate || plan.install
      if changed || !state.running.contains(role) { plan.start.append(role) }
    }
    return plan
  }
}
