/// One generation of a netboot node's root. A node's root can exist in several generations: the
/// one it boots (`current`), the one it booted before (`previous`, what `piswarm rollback`
/// boots), older ones kept until `piswarm root prune`, and one made for an upgrade that has not
/// been switched to yet (`made`).
///
/// Generation 1 lives at `NFS_ROOT/NODE` (every root made before generations existed is one);
/// generation N > 1 at `NFS_ROOT/.roots/NODE/N`. A generation's path never changes and nothing
/// is ever renamed over one that is served: switching is done by the head, by pointing the
/// node's `cmdline.txt` (`nfsroot=`) and its NFS export at the generation's path. No link is
/// involved anywhere (the head never follows a link in a node's root).
public struct RootGeneration: Codable, Hashable, Sendable {
  public enum Role: String, Codable, Sendable, CaseIterable {
    case current
    case previous
    /// Older than previous: removed by `root prune`.
    case kept
    /// Made and not booted yet (an upgrade under way or one that stopped before switching).
    case made
  }

  public var node: String
  public var number: Int
  public var image: String
  public var method: RootMethod
  public var path: String
  public var role: Role
  /// Why it was made: `root make`, `upgrade to IMAGE`, `backup before packages`.
  public var purpose: String

  public init(
    node: String, number: Int, image: String, method: RootMethod, path: String, role: Role, purpose: String
  ) {
    self.node = node
    self.number = number
    self.image = image
    self.method = method
    self.path = path
    self.role = role
    self.purpose = purpose
  }
}

extension RootLayout {
  /// `NFS_ROOT/.roots/NODE`: where a node's generations after the first live.
  public func generations(_ node: String) -> String { "\(nfsRoot)/.roots/\(node)" }

  /// The path of a node's generation `number`: `NFS_ROOT/NODE` for the first, else
  /// `NFS_ROOT/.roots/NODE/N`.
  public func generation(_ node: String, _ number: Int) -> String {
    number <= 1 ? root(node) : "\(generations(node))/\(number)"
  }

  /// An overlay generation's upper and work folders: the first generation's are
  /// `NFS_ROOT/.upper/NODE/{upper,work}`, generation N's `NFS_ROOT/.upper/NODE/N/{upper,work}`.
  public func upper(_ node: String, generation number: Int) -> String {
    number <= 1 ? upper(node) : "\(nfsRoot)/.upper/\(node)/\(number)/upper"
  }
  public func work(_ node: String, generation number: Int) -> String {
    number <= 1 ? work(node) : "\(nfsRoot)/.upper/\(node)/\(number)/work"
  }
  /// The folder holding a generation's upper and work (what is removed with it).
  public func overlayFolder(_ node: String, generation number: Int) -> String {
    number <= 1 ? "\(nfsRoot)/.upper/\(node)" : "\(nfsRoot)/.upper/\(node)/\(number)"
  }

  /// The generation `path` is, for `node`; nil when it is none of this layout's.
  public func generationNumber(of path: String, node: String) -> Int? {
    if path == root(node) { return 1 }
    let prefix = generations(node) + "/"
    guard path.hasPrefix(prefix), let number = Int(path.dropFirst(prefix.count)), number > 1 else { return nil }
    return number
  }
}

/// The pure bookkeeping of generations: which one boots, which one is the way back, what a
/// prune removes.
public enum RootGenerations {
  /// The generations of a node as recorded, or, when none is (a root made before generations
  /// existed, or by `root make`), its one root as generation 1, current.
  public static func known(
    recorded: [RootGeneration], node: String, image: String, method: RootMethod, path: String
  ) -> [RootGeneration] {
    if !recorded.isEmpty { return recorded.sorted { $0.number < $1.number } }
    return [RootGeneration(node: node, number: 1, image: image, method: method, path: path, role: .current, purpose: "root make")]
  }

  /// The number of the next generation (at least 2: 1 is `NFS_ROOT/NODE`).
  public static func next(_ generations: [RootGeneration]) -> Int {
    max(2, (generations.map(\.number).max() ?? 0) + 1)
  }

  public static func current(_ generations: [RootGeneration]) -> RootGeneration? {
    generations.first { $0.role == .current }
  }

  public static func previous(_ generations: [RootGeneration]) -> RootGeneration? {
    generations.first { $0.role == .previous }
  }

  /// `number` becomes current; the current one becomes previous, the previous one kept.
  public static func activate(_ generations: [RootGeneration], _ number: Int) throws(PiSwarmError) -> [RootGeneration] {
    guard let target = generations.first(where: { $0.number == number }) else {
      throw PiSwarmError(.notFound, "\(generations.first?.node ?? "the node") has no root generation \(number)")
    }
    if target.role == .current { return generations }
    return promote(generations, number, to: .current)
  }

  /// A backup was made as `number` (a copy of the current root before it is changed in place):
  /// it becomes previous, the previous one kept; the current one stays current.
  public static func backup(_ generations: [RootGeneration], _ number: Int) throws(PiSwarmError) -> [RootGeneration] {
    guard generations.contains(where: { $0.number == number && $0.role != .current }) else {
      throw PiSwarmError(
        .notFound, "\(generations.first?.node ?? "the node") has no root generation \(number) to keep as a backup")
    }
    return promote(generations, number, to: .previous)
  }

  /// `number` takes `role` (current or previous); each one at or below that role moves down a
  /// place: current to previous, previous to kept.
  static func promote(_ generations: [RootGeneration], _ number: Int, to role: RootGeneration.Role) -> [RootGeneration] {
    generations.map { generation in
      var changed = generation
      if generation.number == number {
        changed.role = role
      } else if generation.role == .current, role == .current {
        changed.role = .previous
      } else if generation.role == .previous {
        changed.role = .kept
      }
      return changed
    }
  }

  /// Current and previous change places: the node boots the root it booted before.
  public static func rollback(_ generations: [RootGeneration]) throws(PiSwarmError) -> [RootGeneration] {
    guard let previous = previous(generations) else {
      let node = generations.first?.node ?? "the node"
      throw PiSwarmError(
        .notFound, "\(node) has no previous root to go back to",
        advice: "'piswarm root ls' shows its generations; the previous one is kept until 'piswarm root prune'")
    }
    return try activate(generations, previous.number)
  }

  /// What `root prune` keeps (current and previous) and removes (everything else).
  public static func prune(_ generations: [RootGeneration]) -> (keep: [RootGeneration], remove: [RootGeneration]) {
    let keep = generations.filter { $0.role == .current || $0.role == .previous }
    let remove = generations.filter { $0.role != .current && $0.role != .previous }
    return (keep, remove)
  }
}
