/// One step of `up`, as `plan` prints it and the journal records it. Details that exist only
/// when the step runs (join tokens, the managers' addresses, a node's entry ID after it joined)
/// are not part of it: the executor resolves them.
public enum RunAction: Sendable, Equatable {
  /// Nothing is changed for the node, for the reason given (a node in another swarm, a Docker
  /// setup that cannot be done, a node that cannot be reached, …).
  case refuse(node: String, reason: String)
  /// A node that could not be reached and has a power driver: switched on.
  case powerOn(node: Node)
  /// A node switched on: waited for, phase by phase (netboot: DHCP, TFTP, NFS root and SSH;
  /// others: SSH), power-cycled when stuck in a phase (`power.retries` times).
  case waitBoot(node: Node)
  /// The head's registry services (the cache and the private registry, their CA, certificate,
  /// configuration), set up as cluster.yml says; before any node's Docker setup, which
  /// installs the CA this makes.
  case registry(plan: RegistryHead.Plan)
  /// NAT through the head (`head.nat`): piswarm's nft table put in place or removed.
  case nat(plan: HeadNAT.Plan)
  /// A manager locked by autolock, unlocked with the key the state store keeps.
  case unlock(node: String)
  /// Docker's setup on the node.
  case docker(node: Node, plan: EngineSetup.Plan)
  case initSwarm(node: String)
  case join(node: String, role: Node.Role)
  case promote(node: String)
  case demote(node: String)
  /// Labels put on the node's swarm entry (others someone put there stay).
  case setLabels(node: String, labels: [String: String])
  /// An entry an earlier life of the node left behind (a down worker at its address).
  case removeStaleEntry(node: String, entry: String)
  case setAutolock(Bool)
  /// Autolock is on and the key kept is not the swarm's (rotated by hand): keep the current one.
  case keepUnlockKey
  /// Autolock is off: the kept key is forgotten once every manager was seen unlocked.
  case forgetUnlockKey
  case rotateJoinTokens
  /// A stack of `stacks:` deployed (its configuration is not the one its services carry), the
  /// run's last step: `new` when none of its services exists yet.
  case deployStack(name: String, new: Bool)
  /// A stack of `stacks:` that cannot be deployed (its compose files are broken, the docker CLI
  /// is missing, the swarm cannot be read), with why.
  case refuseStack(name: String, reason: String)
  /// A netboot node's root under head.nfs_root, made from `image` (`paths` nil) or converged:
  /// `paths` in it written again (identity, netboot OS changes, Docker's configuration).
  case netbootRoot(node: Node, image: String, paths: [String]?)
  /// The netboot files on the head (dnsmasq's configuration, TFTP folders, exports, hook)
  /// that differ from what cluster.yml renders, written; `paths` as a dry run found them.
  case netbootFiles(paths: [String], tftpRoot: String)
  /// A service on the head restarted (or reloaded) because its netboot files changed.
  case netbootRestart(NetbootRestart)
  /// Netboot that cannot be done, with why: a node's root (`node`), or the head's files
  /// (`node` is `head`).
  case refuseNetboot(node: String, reason: String)

  /// The node the action is about; nil for the swarm as a whole.
  public var node: String? {
    switch self {
    case .refuse(let node, _), .unlock(let node), .initSwarm(let node), .join(let node, _), .promote(let node),
      .demote(let node), .setLabels(let node, _), .removeStaleEntry(let node, _):
      node
    case .docker(let node, _), .powerOn(let node), .waitBoot(let node), .netbootRoot(let node, _, _): node.name
    case .refuseNetboot(let node, _): node == "head" ? nil : node
    case .registry, .nat, .setAutolock, .keepUnlockKey, .forgetUnlockKey, .rotateJoinTokens, .deployStack, .refuseStack,
      .netbootFiles, .netbootRestart:
      nil
    }
  }

  /// Where the action happens, for tables and the journal: its node, the head, or the swarm.
  public var place: String {
    switch self {
    case .registry, .nat, .netbootFiles, .netbootRestart: return "head"
    case .refuseNetboot(let node, _): return node
    default: break
    }
    return node ?? "swarm"
  }

  /// What part of the run it belongs to: `error`, `netboot`, `power`, `registry`, `nat`,
  /// `docker`, `swarm` or `stack`.
  public var step: String {
    switch self {
    case .refuse, .refuseStack, .refuseNetboot: "error"
    case .netbootRoot, .netbootFiles, .netbootRestart: "netboot"
    case .powerOn, .waitBoot: "power"
    case .docker: "docker"
    case .registry: "registry"
    case .nat: "nat"
    case .deployStack: "stack"
    default: "swarm"
    }
  }

  /// Every value of `step` but `error`, in the order a run does them: what `up --only` takes.
  public static let steps = ["netboot", "power", "registry", "docker", "swarm", "stack"]

  /// Whether it runs before the swarm is changed: refusals, the head's services, unlocks and
  /// Docker's setup (what a round that starts engines does).
  public var isBeforeTheSwarm: Bool {
    switch self {
    case .refuse, .registry, .nat, .unlock, .docker, .netbootRoot, .netbootFiles, .netbootRestart, .refuseNetboot: true
    default: false
    }
  }

  /// Whether it is a refusal: something cluster.yml asks for that is left undone, with why.
  public var isRefusal: Bool {
    switch self {
    case .refuse, .refuseStack, .refuseNetboot: true
    default: false
    }
  }

  /// Its stable identity: unique within a plan, the same in `plan`'s output and in the journal.
  public var id: String {
    switch self {
    case .refuse(let node, _): "refuse \(node)"
    case .powerOn(let node): "power on \(node.name)"
    case .waitBoot(let node): "wait boot \(node.name)"
    case .unlock(let node): "unlock \(node)"
    case .docker(let node, _): "docker \(node.name)"
    case .registry: "registry on head"
    case .nat: "nat on head"
    case .initSwarm(let node): "init \(node)"
    case .join(let node, let role): "join \(node) as \(role.rawValue)"
    case .promote(let node): "promote \(node)"
    case .demote(let node): "demote \(node)"
    case .setLabels(let node, _): "labels \(node)"
    case .removeStaleEntry(let node, let entry): "remove stale entry \(entry.prefix(12)) of \(node)"
    case .setAutolock(let on): on ? "enable autolock" : "disable autolock"
    case .keepUnlockKey: "keep unlock key"
    case .forgetUnlockKey: "forget unlock key"
    case .rotateJoinTokens: "rotate join tokens"
    case .deployStack(let name, _): "deploy stack \(name)"
    case .refuseStack(let name, _): "refuse stack \(name)"
    case .netbootRoot(let node, _, _): "root \(node.name)"
    case .netbootFiles: "netboot files on head"
    case .netbootRestart(let service): service.id
    case .refuseNetboot(let node, _): node == "head" ? "refuse netboot files" : "refuse root \(node)"
    }
  }

  /// In words, for the CHANGE column. Never a secret.
  public var change: String {
    switch self {
    case .refuse(_, let reason): reason
    case .powerOn(let node): "power on (\(node.power.driver) driver)"
    case .waitBoot(let node):
      node.boot == .netboot ? "wait until it boots: DHCP, TFTP, NFS root, SSH" : "wait until it boots: SSH"
    case .unlock: "unlock"
    case .docker(let node, let plan): plan.actions(node).joined(separator: ", ")
    case .registry(let plan): plan.actions.joined(separator: ", ")
    case .nat(let plan): plan.change
    case .initSwarm: "init"
    case .join(_, let role): "join as \(role.rawValue)"
    case .promote: "promote"
    case .demote: "demote"
    case .setLabels(_, let labels):
      "label " + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    case .removeStaleEntry(_, let entry): "remove stale entry \(entry.prefix(12))"
    case .setAutolock(let on): on ? "enable autolock" : "disable autolock"
    case .keepUnlockKey: "keep the swarm's current unlock key"
    case .forgetUnlockKey: "forget the unlock key"
    case .rotateJoinTokens: "rotate join tokens"
    case .deployStack(let name, let new): new ? "deploy stack \(name)" : "update stack \(name) (its configuration changed)"
    case .refuseStack(let name, let reason): "stack \(name): \(reason)"
    case .netbootRoot(_, let image, let paths?):
      "converge its root (from \(image)): \(Self.listed(paths, noun: "file"))"
    case .netbootRoot(_, let image, nil): "make its root from \(image)"
    case .netbootFiles(let paths, let tftpRoot):
      "netboot files: \(Self.listed(paths.map { RunPlanner.shortPath($0, tftpRoot: tftpRoot) }, noun: "change"))"
    case .netbootRestart(let service): service.words
    case .refuseNetboot(_, let reason): reason
    }
  }

  /// `3 change(s) (a, b, c)`, the first few named and the rest counted.
  static func listed(_ items: [String], noun: String, shown: Int = 3) -> String {
    let named = items.prefix(shown).joined(separator: ", ") + (items.count > shown ? ", …" : "")
    return "\(items.count) \(noun)(s) (\(named))"
  }
}

/// What a run will do: preflight's findings, and the actions in the order they run.
public struct RunPlan: Sendable, Equatable {
  public var findings: [Preflight.Finding]
  /// Preflight found an error: nothing is done at all.
  public var blocked: Bool { findings.contains { $0.severity == .error } }
  public var actions: [RunAction]
  /// Every manager of the swarm was locked: once they are unlocked, the rest is planned from
  /// a new observation (the swarm's view could not be read before).
  public var unlocksFirst: Bool
  /// Nodes that could not be reached are powered on first: once they are up, the rest is
  /// planned from a new observation (Docker and the swarm are read from them then).
  public var bootsFirst: Bool
  /// Some nodes' dockerd is down and their Docker setup starts it (a netbooted node's dockerd
  /// waits for the storage this run makes): the head's and Docker's actions run first, and the
  /// swarm and the stacks are planned from a new observation once those dockerds answer, in
  /// the same run (their swarm state cannot be read before).
  public var startsEnginesFirst: Bool = false
  /// The node the swarm's view was read through: the executor changes the swarm through it
  /// first (a node left alone is still observed, and may be the one that can change it).
  public var via: String?

  public init(
    findings: [Preflight.Finding] = [], actions: [RunAction] = [], unlocksFirst: Bool = false, bootsFirst: Bool = false,
    via: String? = nil
  ) {
    self.findings = findings
    self.actions = actions
    self.unlocksFirst = unlocksFirst
    self.bootsFirst = bootsFirst
    self.via = via
  }

  /// The plan of a narrower run (`up --only docker,swarm`): only the actions of `steps` (values
  /// of `RunAction.step`), refusals kept (what is left undone still says why). A run that skips
  /// power does not wait for a second round after boots; one that skips the swarm does not wait
  /// for unlocks. Preflight checks a node for Docker and the swarm: a run of only power or
  /// the registry neither stops on its findings nor shows them.
  public func only(_ steps: Set<String>) -> RunPlan {
    var plan = self
    if steps.isDisjoint(with: ["docker", "swarm", "stack"]) { plan.findings = [] }
    plan.actions = actions.filter { $0.isRefusal || steps.contains($0.step) }
    plan.bootsFirst = bootsFirst && steps.contains("power")
    // Another round only when this one starts engines and a later step is asked for.
    plan.startsEnginesFirst = startsEnginesFirst && steps.contains("docker") && !steps.isDisjoint(with: ["swarm", "stack"])
    plan.unlocksFirst = unlocksFirst && steps.contains("swarm")
    return plan
  }
}
