/// `piswarm secret ls`: the names of the stored secrets, never their values.
public enum SecretListing {
  public struct Entry: Codable, Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }
  }

  /// One entry per name, sorted.
  public static func entries(_ names: some Sequence<String>) -> [Entry] {
    names.sorted().map(Entry.init(name:))
  }

  public static func table(_ entries: [Entry]) -> String {
    TextTable.render(header: ["NAME"], rows: entries.map { [$0.name] })
  }
}
