import Foundation
import GRDB
import PiSwarmCore

/// An imported OS image (migration 3-images). Lists are stored comma-separated.
public struct ImageRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "images"
  public var name: String
  public var source: String
  public var compression: String
  public var osRelease: String
  public var kernels: String
  public var modules: String
  public var imageSize: Int64
  public var sourceSize: Int64
  public var sha256: String
  public var importedAt: Date

  public init(
    name: String, source: String, compression: String, osRelease: String, kernels: [String], modules: [String],
    imageSize: Int64, sourceSize: Int64, sha256: String, importedAt: Date
  ) {
    self.name = name
    self.source = source
    self.compression = compression
    self.osRelease = osRelease
    self.kernels = kernels.joined(separator: ",")
    self.modules = modules.joined(separator: ",")
    self.imageSize = imageSize
    self.sourceSize = sourceSize
    self.sha256 = sha256
    self.importedAt = importedAt
  }

  enum CodingKeys: String, CodingKey {
    case name, source, compression, kernels, modules, sha256
    case osRelease = "os_release"
    case imageSize = "image_size"
    case sourceSize = "source_size"
    case importedAt = "imported_at"
  }
}

/// A node root made under the head's NFS root.
public struct NodeRootRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "node_roots"
  public var node: String
  public var image: String
  public var method: String
  public var path: String
  /// The pinned host key's fingerprint.
  public var hostKey: String
  public var createdAt: Date
  public var updatedAt: Date

  public init(node: String, image: String, method: String, path: String, hostKey: String, createdAt: Date, updatedAt: Date) {
    self.node = node
    self.image = image
    self.method = method
    self.path = path
    self.hostKey = hostKey
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }

  enum CodingKeys: String, CodingKey {
    case node, image, method, path
    case hostKey = "host_key"
    case createdAt = "created_at"
    case updatedAt = "updated_at"
  }
}

extension SQLiteStateStore {
  public func addImage(_ image: ImageRecord) throws(PiSwarmError) {
    try write { db in try image.insert(db) }
  }

  public func images() throws(PiSwarmError) -> [ImageRecord] {
    try read { db in try ImageRecord.order(Column("name")).fetchAll(db) }
  }

  public func image(named name: String) throws(PiSwarmError) -> ImageRecord? {
    try read { db in try ImageRecord.fetchOne(db, key: name) }
  }

  public func removeImage(named name: String) throws(PiSwarmError) {
    try write { db in _ = try ImageRecord.deleteOne(db, key: name) }
  }

  /// Records a root; an existing record keeps its creation time.
  public func recordRoot(_ root: NodeRootRecord) throws(PiSwarmError) {
    try write { db in
      var record = root
      if let existing = try NodeRootRecord.fetchOne(db, key: root.node) { record.createdAt = existing.createdAt }
      try record.upsert(db)
    }
  }

  public func roots(image: String? = nil) throws(PiSwarmError) -> [NodeRootRecord] {
    try read { db in
      var request = NodeRootRecord.order(Column("node"))
      if let image { request = request.filter(Column("image") == image) }
      return try request.fetchAll(db)
    }
  }

  public func removeRoot(node: String) throws(PiSwarmError) {
    try write { db in _ = try NodeRootRecord.deleteOne(db, key: node) }
  }
}
