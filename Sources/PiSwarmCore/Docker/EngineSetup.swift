import Crypto
import Foundation

/// Docker on a node: installed, configured by daemon.json, its storage where cluster.yml says.
/// One remote script reads the node (`probe`, Scripts/engine-probe.sh); `plan` decides, purely;
/// one remote script applies the plan (Scripts/engine-apply.sh), idempotently.
public enum EngineSetup {
  /// What the probe read on a node.
  public struct State: Sendable, Equatable {
    public var docker: Bool
    public var apt: Bool
    public var daemonJSON: String?
    public var fstab: String
    /// The storage mode set up last (the marker file); nil means root.
    public var storageMode: String?
    /// Whether the storage of `storageMode` is mounted at `/var/lib/docker`.
    public var storageMounted: Bool
    /// The SHA-256 of `ca.crt` in each folder of `Cluster.registryTrustFolders`, in its order
    /// (`none` where there is none).
    public var registryCA: [String]
    /// dockerd's `/info` as the node's curl read it through the socket (the node's word: not
    /// checked here, see `EngineInfo.fromProbe`); nil when the node has no curl or dockerd did
    /// not answer, and the head asks the Engine API itself.
    public var engineInfo: String?

    public init(
      docker: Bool, apt: Bool, daemonJSON: String?, fstab: String, storageMode: String?, storageMounted: Bool,
      registryCA: [String] = [], engineInfo: String? = nil
    ) {
      self.docker = docker
      self.apt = apt
      self.daemonJSON = daemonJSON
      self.fstab = fstab
      self.storageMode = storageMode
      self.storageMounted = storageMounted
      self.registryCA = registryCA
      self.engineInfo = engineInfo
    }
  }

  /// What to do to the storage.
  public enum StorageStep: Sendable, Equatable {
    case keep
    /// From the root filesystem to a piswarm mount; what `/var/lib/docker` and
    /// `/var/lib/containerd` hold is copied over, so a node keeps its swarm identity.
    case migrate
    /// A loopfile grown to its new size (offline: dockerd stops meanwhile).
    case grow
    /// A tmpfs remounted with its new size limit.
    case resize
    /// Set up as cluster.yml says, but not mounted (a failed mount at boot, or a run that was
    /// interrupted): finished and mounted again, as `migrate` does, keeping what is there.
    case repair
  }

  public struct Plan: Sendable, Equatable {
    public var install = false
    /// The new daemon.json, when it changes.
    public var daemonJSON: String?
    /// The new /etc/fstab, when it changes.
    public var fstab: String?
    public var storage = StorageStep.keep
    /// dockerd restarts (only for a changed daemon.json; storage steps stop and start it).
    public var restart = false
    /// The cluster CA goes into /etc/docker/certs.d for the head's registry (dockerd reads it
    /// at each pull: no restart).
    public var registryCA = false

    public init() {}

    public var isEmpty: Bool {
      !install && daemonJSON == nil && fstab == nil && storage == .keep && !restart && !registryCA
    }
    /// Whether dockerd is stopped while this plan is applied.
    public var stopsDocker: Bool { restart || storage == .migrate || storage == .repair || storage == .grow }

    /// In words, for `plan`, `up` and the journal.
    public func actions(_ node: Node) -> [String] {
      var actions: [String] = []
      if install { actions.append("install docker.io") }
      switch storage {
      case .keep: break
      case .migrate: actions.append("storage \(node.dockerStorage)")
      case .grow: actions.append("grow storage to \(node.dockerStorage)")
      case .resize: actions.append("resize storage to \(node.dockerStorage)")
      case .repair: actions.append("mount storage \(node.dockerStorage)")
      }
      if fstab != nil, storage == .keep { actions.append("fstab") }
      if daemonJSON != nil { actions.append("daemon.json") }
      if registryCA { actions.append("registry CA") }
      if restart { actions.append("restart dockerd") }
      return actions
    }
  }

  public static let probeKeys = [
    "docker", "apt", "daemon_json", "fstab", "storage_mode", "storage_mounted", "registry_ca", "engine_info",
  ]

  /// Reads what `plan` needs in one round trip (Scripts/engine-probe.sh): the script and its
  /// parameters.
  public static let probe = RemoteScript.engineProbe
  public static func probeEnvironment(_ cluster: Cluster) -> [(name: String, value: String)] {
    [
      ("BASE", DockerStorageLayout.base), ("STORE", DockerStorageLayout.store), ("DATA_ROOT", DockerStorageLayout.dataRoot),
      ("DAEMON_PATH", DaemonConfig.path), ("CA_DIRS", cluster.registryTrustFolders.joined(separator: " ")),
      ("DOCKER_SOCKET", "/var/run/docker.sock"),
    ]
  }

  public static func parse(_ output: String) -> State {
    let facts = KeyValueLines.parse(output, keys: probeKeys)
    func decoded(_ key: String) -> String? {
      guard let text = facts[key] else { return nil }
      return Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) }
    }
    return State(
      docker: facts["docker"] == "yes", apt: facts["apt"] == "yes", daemonJSON: decoded("daemon_json"),
      fstab: decoded("fstab") ?? "", storageMode: facts["storage_mode"], storageMounted: facts["storage_mounted"] == "yes",
      registryCA: (facts["registry_ca"] ?? "").split(separator: ",").map(String.init), engineInfo: decoded("engine_info"))
  }

  /// What to change on `node`, read as `state`. Throws what cannot be done safely: a daemon.json
  /// that is not JSON, no way to install Docker, a storage change that would lose data.
  /// `registryCA` is the head's cluster CA (its certificate), nil when it is still to be made.
  public static func plan(
    _ state: State, cluster: Cluster, node: Node, registryCA: String? = nil
  ) throws(PiSwarmError) -> Plan {
    var plan = Plan()
    if cluster.registry.enabled {
      let wanted = registryCA.map { SHA256.hex(Data($0.utf8)) }
      plan.registryCA = wanted == nil || state.registryCA != cluster.registryTrustFolders.map { _ in wanted ?? "" }
    }
    if !state.docker {
      guard state.apt else {
        throw PiSwarmError(
          .invalidInput, "Docker is not installed on \(node.name) and it has no apt-get",
          advice: "install Docker Engine on the node yourself (its distribution's package), then run again")
      }
      plan.install = true
    }
    let desired = node.dockerStorage
    let current: DockerStorage
    switch state.storageMode.map(DockerStorage.parse) {
    case nil: current = .root
    case .success(let mode)?: current = mode
    case .failure?:
      throw PiSwarmError(
        .invalidInput,
        "\(DockerStorageLayout.marker) on \(node.name) holds \"\(state.storageMode ?? "")\", not a storage mode",
        advice: "write the mode the node's storage has (e.g. loopfile:16G) into it, or remove it if the storage is root")
    }
    switch (current, desired) {
    case _ where current == desired:
      plan.storage = desired != .root && !state.storageMounted ? .repair : .keep
    case (.root, _):
      plan.storage = .migrate
    case (.loopfile(let old), .loopfile(let new)):
      guard new > old else {
        throw PiSwarmError(
          .invalidInput, "\(node.name): the loopfile cannot shrink from \(old) to \(new)",
          advice: "set docker_storage: loopfile:\(old) (or larger) for \(node.name) in cluster.yml")
      }
      plan.storage = .grow
    case (.tmpfs, .tmpfs):
      plan.storage = .resize
    default:
      throw PiSwarmError(
        .invalidInput,
        "\(node.name): Docker's storage is \(current) and cluster.yml says \(desired); piswarm changes it only from root, "
          + "to keep the node's images and swarm identity",
        advice:
          "keep docker_storage: \(current) for \(node.name), or remove the node from the swarm ('piswarm swarm rm \(node.name)'), "
          + "undo its storage by hand (unmount /var/lib/docker and /var/lib/containerd, delete piswarm's block in /etc/fstab "
          + "and \(DockerStorageLayout.marker)) and run 'piswarm up' again")
    }
    let fstab = DockerStorageLayout.fstab(existing: state.fstab, storage: desired)
    if fstab != state.fstab { plan.fstab = fstab }
    let daemon = try DaemonConfig.render(existing: state.daemonJSON, DaemonConfig.Settings(cluster, node))
    // The same settings in another layout are no reason to restart dockerd.
    if daemon != state.daemonJSON, JSONValue.parse(daemon) != state.daemonJSON.flatMap(JSONValue.parse) {
      plan.daemonJSON = daemon
      plan.restart = state.docker
    }
    return plan
  }

  /// The parameters of `RemoteScript.engineApply` (Scripts/engine-apply.sh) for `plan`, by name.
  /// `registryCA` is the cluster CA's certificate, read on the head when the step runs.
  public static func applyEnvironment(
    _ plan: Plan, node: Node, format: Bool, registryCA: String? = nil, trustFolders: [String] = []
  ) -> [(name: String, value: String)] {
    let step: String =
      switch plan.storage {
      case .keep: "keep"
      case .migrate: "migrate"
      case .grow: "grow"
      case .resize: "resize"
      case .repair: "repair"
      }
    let (kind, argument): (String, String) =
      switch node.dockerStorage {
      case .root: ("root", "")
      case .loopfile(let size): ("loopfile", String(size.bytes))
      case .device(let path): ("device", path)
      case .tmpfs(let size): ("tmpfs", String(size.bytes))
      }
    func base64(_ text: String?) -> String { text.map { Data($0.utf8).base64EncodedString() } ?? "" }
    return [
      ("STEP", step), ("KIND", kind), ("ARG", argument), ("FORMAT", format ? "1" : "0"),
      ("INSTALL", plan.install ? "1" : "0"), ("DAEMON", base64(plan.daemonJSON)), ("FSTAB", base64(plan.fstab)),
      ("MODE", node.dockerStorage.description), ("STOP", plan.stopsDocker ? "1" : "0"), ("ROLE", node.role.rawValue),
      ("DROPIN", base64(DockerStorageLayout.systemdDropInText(node.dockerStorage))),
      ("BASE", DockerStorageLayout.base), ("STORE", DockerStorageLayout.store), ("IMAGE", DockerStorageLayout.loopfile),
      ("DAEMON_PATH", DaemonConfig.path), ("DROPIN_PATH", DockerStorageLayout.systemdDropIn),
      ("REGISTRY_CA", plan.registryCA ? base64(registryCA) : ""), ("CA_DIRS", trustFolders.joined(separator: " ")),
    ]
  }
}
