/// `piswarm image ls` and `piswarm root ls`: rows as tables or JSON.
public enum ImageListing {
  public struct Entry: Codable, Sendable, Equatable {
    public var name: String
    public var osRelease: String
    public var kernels: [String]
    public var modules: [String]
    public var imageSize: Int64
    public var sha256: String
    public var source: String
    public var importedAt: String
    /// Nodes whose roots are made from this image.
    public var roots: [String]

    public init(
      name: String, osRelease: String, kernels: [String], modules: [String], imageSize: Int64, sha256: String,
      source: String, importedAt: String, roots: [String]
    ) {
      self.name = name
      self.osRelease = osRelease
      self.kernels = kernels
      self.modules = modules
      self.imageSize = imageSize
      self.sha256 = sha256
      self.source = source
      self.importedAt = importedAt
      self.roots = roots
    }
  }

  public static func table(_ entries: [Entry]) -> String {
    TextTable.render(
      header: ["NAME", "OS", "KERNEL", "SIZE", "ROOTS", "SHA256"],
      rows: entries.map { entry in
        [
          entry.name, entry.osRelease, entry.modules.joined(separator: ","),
          ProgressLine.mebibytes(UInt64(max(0, entry.imageSize))), String(entry.roots.count),
          String(entry.sha256.prefix(12)),
        ]
      })
  }
}
