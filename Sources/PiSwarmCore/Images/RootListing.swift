public enum RootListing {
  public struct Entry: Codable, Sendable, Equatable {
    public var node: String
    public var image: String
    public var method: String
    public var path: String
    public var hostKey: String
    /// Whether the root is there to be served (an overlay: mounted).
    public var ready: Bool
    /// Its generations, by number (one, current, until 'piswarm upgrade' makes more).
    public var generations: [Generation]

    public init(
      node: String, image: String, method: String, path: String, hostKey: String, ready: Bool,
      generations: [Generation] = []
    ) {
      self.node = node
      self.image = image
      self.method = method
      self.path = path
      self.hostKey = hostKey
      self.ready = ready
      self.generations = generations
    }
  }

  /// One generation of a node's root, as listed.
  public struct Generation: Codable, Sendable, Equatable {
    public var number: Int
    public var image: String
    public var role: RootGeneration.Role
    public var path: String
    public var purpose: String

    public init(_ generation: RootGeneration) {
      number = generation.number
      image = generation.image
      role = generation.role
      path = generation.path
      purpose = generation.purpose
    }
  }

  /// `2 current (bookworm-2), 1 previous (bookworm)`: newest first.
  public static func generations(_ entry: Entry) -> String {
    entry.generations.sorted { $0.number > $1.number }.map { "\($0.number) \($0.role.rawValue) (\($0.image))" }
      .joined(separator: ", ")
  }

  public static func table(_ entries: [Entry]) -> String {
    TextTable.render(
      header: ["NODE", "IMAGE", "METHOD", "READY", "PATH", "HOST KEY", "GENERATIONS"],
      rows: entries.map {
        [
          $0.node, $0.image, $0.method, $0.ready ? "yes" : "no (run 'piswarm root ensure')", $0.path, $0.hostKey,
          generations($0),
        ]
      }
    )
  }
}
