public enum RootListing {
  public struct Entry: Codable, Sendable, Equatable {
    public var node: String
    public var image: String
    public var method: String
    public var path: String
    public var hostKey: String
    /// Whether the root is there to be served (an overlay: mounted).
    public var ready: Bool

    public init(node: String, image: String, method: String, path: String, hostKey: String, ready: Bool) {
      self.node = node
      self.image = image
      self.method = method
      self.path = path
      self.hostKey = hostKey
      self.ready = ready
    }
  }

  public static func table(_ entries: [Entry]) -> String {
    TextTable.render(
      header: ["NODE", "IMAGE", "METHOD", "READY", "PATH", "HOST KEY"],
      rows: entries.map {
        [$0.node, $0.image, $0.method, $0.ready ? "yes" : "no (run 'piswarm root ensure')", $0.path, $0.hostKey]
      }
    )
  }
}
