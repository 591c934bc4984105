import Foundation
import GRDB
import PiSwarmCore

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
