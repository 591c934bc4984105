/// The desired state of a cluster, decoded from `cluster.yml`.
public struct Cluster: Hashable, Sendable {
  public static let schemaVersion = 1

  public var name: String
  public var head: Head
  public var ssh: SSHSettings
  public var defaults: NodeDefaults
  public var swarm: SwarmSettings
  public var docker: DockerSettings
  /// The `power:` section: boot timeouts, retries, shutdown timeout.
  public var power: PowerSettings
  /// The head's registry: a pull-through cache and a private registry.
  public var registry: RegistrySettings
  public var nodes: [Node]
  /// The user's stacks (`stacks:`), in the file's order: deployed by `up` as its last step.
  public var stacks: [StackSpec]
  /// The root each netboot node boots now, when the state store knows it (not from the cluster
  /// file): the generation `piswarm upgrade`/`rollback` switched it to, and its image (whose
  /// boot files it gets). A node missing here boots `NFS_ROOT/NODE` with `defaults.image`.
  public var currentRoots: [String: CurrentRoot] = [:]

  /// A node's root generation as the state store records it.
  public struct CurrentRoot: Hashable, Sendable {
    public var path: String
    public var image: String

    public init(path: String, image: String) {
      self.path = path
      self.image = image
    }
  }

  public init(
    name: String, head: Head, ssh: SSHSettings, defaults: NodeDefaults, swarm: SwarmSettings,
    docker: DockerSettings = DockerSettings(), power: PowerSettings = PowerSettings(),
    registry: RegistrySettings = RegistrySettings(), nodes: [Node], stacks: [StackSpec] = []
  ) {
    self.name = name
    self.head = head
    self.ssh = ssh
    self.defaults = defaults
    self.swarm = swarm
    self.docker = docker
    self.power = power
    self.registry = registry
    self.nodes = nodes
    self.stacks = stacks
  }

  public var managers: [Node] { nodes.filter { $0.role == .manager } }
  public var workers: [Node] { nodes.filter { $0.role == .worker } }

  public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

  /// The image whose boot files `node` gets: its current root's, else `defaults.image`.
  public func image(of node: Node) -> String? { currentRoots[node.name]?.image ?? defaults.image }
}
