/// What `plan` and `up` read before they decide: every node (reachability, preflight, Docker's
/// setup, its own swarm state), the swarm's view from one of its managers, and what earlier runs
/// left in the state store. Plain values: `RunPlanner` turns them into actions without I/O.
public struct RunObservation: Sendable, Equatable {
  /// By node name.
  public var nodes: [String: NodeObservation]
  /// Our swarm as one of its managers sees it; nil when no manager answered as one.
  public var swarm: SwarmView?
  /// Why the swarm's view could not be read through the manager that should have it.
  public var swarmError: String?
  /// Join tokens went out since the last rotation (an earlier run failed or was killed).
  public var rotationOwed: Bool
  /// Whether the state store keeps an unlock key (autolock), or why it could not be read.
  public var unlockKey: KeptKey
  /// Nodes this run powered on that did not come up, with why: not powered on again.
  public var bootFailed: [String: String]
  /// The head's registry services as read, and where their files are; nil when not read.
  public var registry: RegistryObservation?
  /// The head's NAT (piswarm's nft table, IPv4 forwarding) as read; nil when not read.
  public var nat: HeadNAT.State?
  /// Why the head's NAT could not be read (no nft): a refusal when `head.nat` is set.
  public var natError: String?
  /// The stacks of `stacks:`, by name: their configuration and what is deployed of them.
  public var stacks: [String: StackObservation] = [:]
  /// The head's netboot files and the netboot nodes' roots, as a dry run found them; nil for a
  /// cluster without netboot nodes (or when not read).
  public var netboot: NetbootObservation?

  public enum KeptKey: Sendable, Equatable {
    case none
    case kept
    case unreadable(String)
  }

  public init(
    nodes: [String: NodeObservation], swarm: SwarmView? = nil, swarmError: String? = nil, rotationOwed: Bool = false,
    unlockKey: KeptKey = .none, bootFailed: [String: String] = [:]
  ) {
    self.nodes = nodes
    self.swarm = swarm
    self.swarmError = swarmError
    self.rotationOwed = rotationOwed
    self.unlockKey = unlockKey
    self.bootFailed = bootFailed
  }
}

/// The head's registry, as read.
public struct RegistryObservation: Sendable, Equatable {
  public var state: RegistryHead.State
  public var paths: RegistryPaths

  public init(state: RegistryHead.State, paths: RegistryPaths) {
    self.state = state
    self.paths = paths
  }
}

/// A stack of `stacks:`: its configuration as the docker CLI merged it, and the hash labels of
/// the services deployed under its name.
public struct StackObservation: Sendable, Equatable {
  public var config: StackConfig?
  /// Why its configuration could not be read (a broken compose file, no docker CLI).
  public var error: String?
  /// Its services in the swarm (names without the stack's prefix) with their hash labels; nil
  /// when the swarm could not be asked.
  public var deployed: [String: String?]?

  public init(config: StackConfig? = nil, error: String? = nil, deployed: [String: String?]? = nil) {
    self.config = config
    self.error = error
    self.deployed = deployed
  }
}

/// One node, as read.
public struct NodeObservation: Sendable, Equatable {
  /// Why it could not be reached over SSH; nil when it was.
  public var unreachable: String?
  /// Preflight's findings (without the SSH one: that is `unreachable`).
  public var findings: [Preflight.Finding]
  /// What Docker's setup probe read; nil when it printed nothing.
  public var engine: EngineSetup.State?
  /// The node's swarm state as its own dockerd says; nil when its API did not answer.
  public var swarm: LocalSwarm?
  /// Why its Docker Engine API did not answer.
  public var dockerError: String?

  public init(
    unreachable: String? = nil, findings: [Preflight.Finding] = [], engine: EngineSetup.State? = nil,
    swarm: LocalSwarm? = nil, dockerError: String? = nil
  ) {
    self.unreachable = unreachable
    self.findings = findings
    self.engine = engine
    self.swarm = swarm
    self.dockerError = dockerError
  }
}

/// A node's own swarm state (the Engine API's `Info.Swarm`).
public struct LocalSwarm: Sendable, Equatable {
  public enum State: String, Sendable, Equatable {
    /// The Engine API's words; an unknown one decodes as `error` (SwarmStates.swift).
    case inactive, pending, active, locked, error
  }

  public var state: State
  /// The ID it says it has (a hint only: the managers' view decides, see `SwarmMember.identity`).
  public var nodeID: String?
  /// Its swarm's ID; only managers report it.
  public var clusterID: String?
  /// Whether it is a manager that can change the swarm.
  public var controlAvailable: Bool

  public init(state: State, nodeID: String? = nil, clusterID: String? = nil, controlAvailable: Bool = false) {
    self.state = state
    self.nodeID = nodeID
    self.clusterID = clusterID
    self.controlAvailable = controlAvailable
  }
}

/// Our swarm, from one of its managers.
public struct SwarmView: Sendable, Equatable {
  public var clusterID: String
  /// The node it was read through.
  public var via: String
  public var members: [SwarmMember]
  public var autolock: Bool
  /// With autolock on: whether the key the state store keeps is the swarm's current one (the
  /// key itself never leaves the observer).
  public var keptKeyIsCurrent: Bool

  public init(clusterID: String, via: String, members: [SwarmMember], autolock: Bool = false, keptKeyIsCurrent: Bool = true) {
    self.clusterID = clusterID
    self.via = via
    self.members = members
    self.autolock = autolock
    self.keptKeyIsCurrent = keptKeyIsCurrent
  }
}

/// One entry of the swarm's node list.
public struct SwarmMember: Sendable, Equatable {
  public var id: String
  /// Status.Addr: the address the node was last seen at.
  public var address: String?
  /// ManagerStatus.Addr without its port, for managers.
  public var managerAddress: String?
  public var role: Node.Role
  public var labels: [String: String]
  public var availability: SwarmAvailability
  public var state: SwarmNodeState
  public var leader: Bool

  public init(
    id: String, address: String?, managerAddress: String? = nil, role: Node.Role, labels: [String: String] = [:],
    availability: SwarmAvailability = .active, state: SwarmNodeState = .ready, leader: Bool = false
  ) {
    self.id = id
    self.address = address
    self.managerAddress = managerAddress
    self.role = role
    self.labels = labels
    self.availability = availability
    self.state = state
    self.leader = leader
  }

  /// Whether the entry is at `address` (its own address, or its manager address).
  public func isAt(_ address: String) -> Bool { self.address == address || managerAddress == address }

  /// How the managers know a node.
  public enum Identity: Equatable, Sendable {
    /// Its entry in the swarm's node list.
    case known(SwarmMember)
    /// Not (yet) in the list at its address.
    case missing
    /// The node says it is `claimed`, an entry the managers know at another address.
    case disputed(claimed: SwarmMember, atAddress: [String])
  }

  /// The swarm's entry for `node` by the managers' view: an entry at the node's address, the
  /// ready one first when a rejoined node left a down one behind. The ID the node reports
  /// itself (`claimed`) only picks among those: a node never speaks for a node at another
  /// address.
  public static func identity(of node: Node, claimed: String?, in members: [SwarmMember]) -> Identity {
    let here = members.filter { $0.isAt(node.ip.description) }
    if let claimed, !claimed.isEmpty {
      if let entry = here.first(where: { $0.id == claimed }) { return .known(entry) }
      // A node that just joined shows without its address for a moment.
      guard let listed = members.first(where: { $0.id == claimed }), let elsewhere = listed.address, !elsewhere.isEmpty,
        elsewhere != "0.0.0.0"
      else { return .missing }
      return .disputed(claimed: listed, atAddress: here.map(\.id))
    }
    guard let entry = here.first(where: { $0.state == .ready }) ?? here.first else { return .missing }
    return .known(entry)
  }

  /// Why a disputed node is left alone, and what to check.
  public static func disputed(_ node: Node, _ claimed: SwarmMember, _ here: [String]) -> String {
    let known =
      here.isEmpty
      ? "and know no node at \(node.ip)" : "and know \(node.ip) as \(here.map { String($0.prefix(12)) }.joined(separator: ", "))"
    return "\(node.name) (\(node.ip)) says it is swarm node \(claimed.id.prefix(12)), which the managers know at "
      + "\(claimed.address ?? "?") \(known): its word is not taken and nothing is changed for it; check its address in "
      + "cluster.yml and that the machine at \(node.ip) is \(node.name)"
  }

  /// Entries that an earlier life of the node at `address` left: workers with another ID. When
  /// the node's current entry is known for sure (`sure`: the node is about to join, so none at
  /// its address is its own, or its own word picked its entry), every other one goes, even before
  /// the managers have noticed it is down (that takes a heartbeat or more, and a run that waited
  /// for it would leave the next plan something to do); otherwise only down ones. Managers are
  /// never removed this way (raft membership).
  public static func staleEntries(
    _ members: [SwarmMember], address: String, currentID: String?, sure: Bool = false
  ) -> [SwarmMember] {
    members.filter {
      $0.id != currentID && $0.address == address && (sure || $0.state == .down) && $0.role == .worker
        && $0.managerAddress == nil
    }
  }
}
