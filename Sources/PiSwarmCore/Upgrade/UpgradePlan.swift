/// What `piswarm upgrade` and `piswarm rollback` do, decided before anything is touched: the
/// order of the nodes (a canary first, workers, managers last and the leader last of all), the
/// steps of each, and the nodes they refuse with why. Pure: the edge observes the swarm and the
/// roots, this decides.
public enum UpgradeKind: Sendable, Equatable {
  /// A new root from this image for each netboot node (`upgrade --image`).
  case image(String)
  /// The distribution's upgrade on each node (`upgrade --packages`).
  case packages
  /// The previous root (`rollback`).
  case rollback
}

/// A node as the planner sees it.
public struct UpgradeCandidate: Sendable, Hashable {
  public enum Swarm: String, Sendable, Hashable, Codable {
    /// In the swarm and Ready.
    case ready
    /// In the swarm, not Ready (down, or its dockerd does not answer).
    case down
    /// Not in the swarm (no swarm yet, or it never joined).
    case absent
  }

  public var node: Node
  public var swarm: Swarm
  /// A manager in the swarm (the swarm's view; the cluster file's role when it is absent).
  public var manager: Bool
  public var leader: Bool
  /// The number the next root generation gets (netboot nodes).
  public var nextGeneration: Int?
  /// The previous generation, what a rollback boots (netboot nodes).
  public var previousGeneration: (number: Int, image: String)?
  /// The image its current root was made from (netboot nodes with a root).
  public var currentImage: String?

  public init(
    node: Node, swarm: Swarm, manager: Bool? = nil, leader: Bool = false, nextGeneration: Int? = nil,
    previousGeneration: (number: Int, image: String)? = nil
  ) {
    self.node = node
    self.swarm = swarm
    self.manager = manager ?? (node.role == .manager)
    self.leader = leader
    self.nextGeneration = nextGeneration
    self.previousGeneration = previousGeneration
  }

  public static func == (a: Self, b: Self) -> Bool {
    a.node == b.node && a.swarm == b.swarm && a.manager == b.manager && a.leader == b.leader
      && a.nextGeneration == b.nextGeneration && a.previousGeneration?.number == b.previousGeneration?.number
      && a.previousGeneration?.image == b.previousGeneration?.image && a.currentImage == b.currentImage
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(node)
    hasher.combine(nextGeneration)
  }
}

public struct UpgradePlan: Sendable, Equatable, Encodable {
  /// The names of the steps, in the order they run on a node.
  public enum Action: String, Sendable, Codable, CaseIterable {
    case root, snapshot, spread, drain, upgrade, reboot
    case powerOff = "power off"
    case switchRoot = "switch root"
    case powerOn = "power on"
    case check, activate, settle
  }

  public struct Step: Sendable, Equatable, Encodable {
    public var node: String
    public var action: Action
    public var detail: String

    public init(node: String, action: Action, detail: String) {
      self.node = node
      self.action = action
      self.detail = detail
    }
  }

  public struct Refusal: Sendable, Equatable, Encodable {
    public var node: String
    public var reason: String
    public var advice: String
  }

  /// The nodes, in the order they are done, one at a time.
  public var order: [String]
  public var steps: [Step]
  public var refused: [Refusal]
  public var warnings: [String]

  public func steps(of node: String) -> [Step] { steps.filter { $0.node == node } }

  /// The dry run's table.
  public var table: String {
    TextTable.render(
      header: ["#", "NODE", "STEP", "WHAT"],
      rows: steps.map { step in
        [String((order.firstIndex(of: step.node) ?? 0) + 1), step.node, step.action.rawValue, step.detail]
      })
  }
}

public enum UpgradePlanner {
  /// The plan for `candidates` (the targeted nodes). `managers` is how many managers the swarm
  /// has, `unreachableManagers` those of them that are not Reachable now. A canary that is not
  /// a candidate is an input error the caller reports before planning.
  public static func plan(
    _ kind: UpgradeKind, candidates: [UpgradeCandidate], canary: String? = nil, managers: Int,
    unreachableManagers: Set<String>
  ) -> UpgradePlan {
    var refused: [UpgradePlan.Refusal] = []
    var warnings: [String] = []
    var accepted: [UpgradeCandidate] = []
    for candidate in candidates {
      if let refusal = refusal(kind, candidate, unreachableManagers: unreachableManagers) {
        refused.append(refusal)
      } else {
        accepted.append(candidate)
      }
    }
    let ordered = order(accepted, canary: canary)
    if ordered.contains(where: \.manager), managers < 3 {
      warnings.append(
        "the swarm has \(managers) manager\(managers == 1 ? "" : "s"): its management pauses while a manager restarts (running tasks go on); 3 managers keep it through one"
      )
    }
    if let canary, !ordered.contains(where: { $0.node.name == canary }) {
      warnings.append("the canary \(canary) is refused: nothing is upgraded before it is")
      return UpgradePlan(order: [], steps: [], refused: refused, warnings: warnings)
    }
    let planned = ordered.flatMap { steps(kind, $0) }
    return UpgradePlan(order: ordered.map(\.node.name), steps: planned, refused: refused, warnings: warnings)
  }

  /// Canary first, then workers by name, then managers by name with the leader last (one
  /// election, at the end).
  public static func order(_ candidates: [UpgradeCandidate], canary: String?) -> [UpgradeCandidate] {
    let first = candidates.filter { $0.node.name == canary }
    let rest = candidates.filter { $0.node.name != canary }
    let workers = rest.filter { !$0.manager }.sorted { $0.node.name < $1.node.name }
    let managers = rest.filter(\.manager).sorted { ($0.leader ? 1 : 0, $0.node.name) < ($1.leader ? 1 : 0, $1.node.name) }
    return first + workers + managers
  }

  static func refusal(
    _ kind: UpgradeKind, _ candidate: UpgradeCandidate, unreachableManagers: Set<String>
  ) -> UpgradePlan.Refusal? {
    let node = candidate.node
    let refuse = { (reason: String, advice: String) in UpgradePlan.Refusal(node: node.name, reason: reason, advice: advice) }
    switch kind {
    case .image, .rollback:
      if node.boot != .netboot {
        return refuse(
          "a \(node.boot.rawValue) node has no root on the head",
          kind == .rollback ? "only netboot nodes have root generations" : "upgrade it with 'piswarm upgrade --packages'")
      }
      if node.power.driver == PowerConfig.none.driver {
        return refuse(
          "power: none: its root is switched while it is off, and piswarm cannot switch it on again",
          "give it a power driver in cluster.yml (see docs/power.md)")
      }
      if kind == .rollback, candidate.previousGeneration == nil {
        return refuse("it has no previous root", "'piswarm root ls' shows its generations")
      }
      if case .image(let image) = kind {
        if candidate.nextGeneration == nil {
          return refuse("it has no root on the head yet", "make it first with 'piswarm root make \(node.name)'")
        }
        if candidate.currentImage == image {
          return refuse("its root is made from \(image) already", "nothing to do; 'piswarm root ls' shows its generations")
        }
      }
    case .packages:
      break
    }
    // A rollback is for a node that did not come back: it may be down.
    if kind != .rollback, candidate.swarm == .down {
      return refuse("it is not Ready in the swarm", "bring it back first ('piswarm up'), then upgrade")
    }
    if candidate.manager {
      let others = unreachableManagers.subtracting([node.name]).sorted()
      if !others.isEmpty {
        return refuse(
          "manager \(others.joined(separator: ", ")) \(others.count == 1 ? "is" : "are") not reachable: taking \(node.name) down too could lose the swarm's quorum",
          "bring \(others.joined(separator: ", ")) back first")
      }
    }
    return nil
  }

  /// One node's steps.
  static func steps(_ kind: UpgradeKind, _ candidate: UpgradeCandidate) -> [UpgradePlan.Step] {
    let node = candidate.node
    let name = node.name
    let driver = node.power.driver
    let inSwarm = candidate.swarm != .absent
    var steps: [UpgradePlan.Step] = []
    func add(_ action: UpgradePlan.Action, _ detail: String) {
      steps.append(UpgradePlan.Step(node: name, action: action, detail: detail))
    }
    let generation = candidate.nextGeneration.map(String.init) ?? "N"
    let drainable = inSwarm && (kind != .rollback || candidate.swarm == .ready)
    switch kind {
    case .image(let image):
      add(
        .root,
        "make root generation \(generation) from \(image): its identity (host key, machine-id) carried, its Docker storage shared"
      )
    case .packages:
      if node.boot == .netboot, candidate.nextGeneration != nil {
        add(.snapshot, "copy its root as generation \(generation): the way back")
      }
    case .rollback:
      break
    }
    if drainable {
      add(
        .spread,
        "a replicated service whose running tasks are all here gets one more on another node first (1 replica: briefly unavailable)"
      )
      add(.drain, "availability drain; wait until its tasks run elsewhere")
    }
    switch kind {
    case .image(let image):
      add(.powerOff, "shut down over SSH, then \(driver) off")
      add(.switchRoot, "boot generation \(generation) (\(image)): cmdline.txt and its NFS export point at it")
      add(.powerOn, "\(driver) on; wait for its boot")
    case .rollback:
      let previous = candidate.previousGeneration.map { "generation \($0.number) (\($0.image))" } ?? "its previous root"
      add(.powerOff, "shut down over SSH, then \(driver) off")
      add(.switchRoot, "boot \(previous): cmdline.txt and its NFS export point at it")
      add(.powerOn, "\(driver) on; wait for its boot")
    case .packages:
      add(.upgrade, "apt-get full-upgrade on the node")
      add(
        .reboot,
        driver == PowerConfig.none.driver
          ? "if /run/reboot-required: reboot over SSH" : "if /run/reboot-required: shut down, \(driver) off and on")
    }
    add(.check, "SSH with the pinned key, dockerd answers" + (inSwarm ? ", Ready in the swarm" : ""))
    if inSwarm {
      add(.activate, "availability active")
      add(.settle, "every service back at its replicas")
    }
    return steps
  }
}

/// Runs a plan's steps one by one and stops at the first failure: the steps after it, on this
/// node and the next ones, are not started.
public enum UpgradeSequence {
  public enum Result: Sendable, Equatable {
    case done(String?)
    /// Not needed on this node (a reboot nobody asked for); the run goes on.
    case skipped(String)
    case failed(String)
  }

  public struct Outcome: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Codable {
      case done, skipped, failed
      case notStarted = "not started"
    }
    public var node: String
    public var step: String
    public var status: Status
    public var detail: String?
  }

  public static func run(
    _ plan: UpgradePlan, report: (Outcome) -> Void = { _ in }, _ perform: (UpgradePlan.Step) -> Result
  ) -> [Outcome] {
    var outcomes: [Outcome] = []
    var stopped = false
    for step in plan.steps {
      let outcome: Outcome
      if stopped {
        outcome = Outcome(node: step.node, step: step.action.rawValue, status: .notStarted, detail: nil)
      } else {
        switch perform(step) {
        case .done(let note): outcome = Outcome(node: step.node, step: step.action.rawValue, status: .done, detail: note)
        case .skipped(let why): outcome = Outcome(node: step.node, step: step.action.rawValue, status: .skipped, detail: why)
        case .failed(let error):
          stopped = true
          outcome = Outcome(node: step.node, step: step.action.rawValue, status: .failed, detail: error)
        }
        report(outcome)
      }
      outcomes.append(outcome)
    }
    return outcomes
  }
}
