import Foundation
import GRDB
import PiSwarmCore

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
