import Foundation
import GRDB
import PiSwarmCore

/// The generations of each netboot node's root (migration `5-root-generations`). `node_roots`
/// keeps one row per node: its current generation (path, image, method). A node with no row
/// here has one generation, its `node_roots` root.
extension SQLiteStateStore {
  static func registerGenerationsMigration(_ migrator: inout DatabaseMigrator) {
    migrator.registerMigration("5-root-generations") { db in
      try db.create(table: "root_generations") { t in
        t.column("node", .text).notNull()
        t.column("number", .integer).notNull()
        t.column("image", .text).notNull()
        t.column("method", .text).notNull()
        t.column("path", .text).notNull()
        t.column("role", .text).notNull()
        t.column("purpose", .text).notNull()
        t.column("created_at", .datetime).notNull()
        t.primaryKey(["node", "number"])
      }
    }
  }

  /// The recorded generations of `node`, by number; empty when only its first root exists.
  public func generations(node: String) throws(PiSwarmError) -> [RootGeneration] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT node, number, image, method, path, role, purpose FROM root_generations WHERE node = ? ORDER BY number",
        arguments: [node]
      ).map { row in
        RootGeneration(
          node: row["node"], number: row["number"], image: row["image"],
          method: RootMethod(rawValue: row["method"]) ?? .copy, path: row["path"],
          role: RootGeneration.Role(rawValue: row["role"]) ?? .kept, purpose: row["purpose"])
      }
    }
  }

  /// Replaces the recorded generations of a node with `generations` in one transaction, and
  /// points its `node_roots` row at the current one.
  public func recordGenerations(node: String, _ generations: [RootGeneration]) throws(PiSwarmError) {
    try write { db in
      let existing = Set(
        try Int.fetchAll(db, sql: "SELECT number FROM root_generations WHERE node = ?", arguments: [node]))
      let now = Date()
      for generation in generations {
        if existing.contains(generation.number) {
          try db.execute(
            sql:
              "UPDATE root_generations SET image = ?, method = ?, path = ?, role = ?, purpose = ? WHERE node = ? AND number = ?",
            arguments: [
              generation.image, generation.method.rawValue, generation.path, generation.role.rawValue, generation.purpose, node,
              generation.number,
            ])
        } else {
          try db.execute(
            sql: """
              INSERT INTO root_generations (node, number, image, method, path, role, purpose, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?)
              """,
            arguments: [
              node, generation.number, generation.image, generation.method.rawValue, generation.path, generation.role.rawValue,
              generation.purpose, now,
            ])
        }
      }
      let kept = generations.map(\.number)
      for number in existing where !kept.contains(number) {
        try db.execute(sql: "DELETE FROM root_generations WHERE node = ? AND number = ?", arguments: [node, number])
      }
      if let current = generations.first(where: { $0.role == .current }) {
        try db.execute(
          sql: "UPDATE node_roots SET path = ?, image = ?, method = ?, updated_at = ? WHERE node = ?",
          arguments: [current.path, current.image, current.method.rawValue, now, node])
      }
    }
  }

  /// Forgets every generation of `node` (its roots are gone).
  public func removeGenerations(node: String) throws(PiSwarmError) {
    try write { db in try db.execute(sql: "DELETE FROM root_generations WHERE node = ?", arguments: [node]) }
  }

  /// The nodes with a generation made from `image` (an image still in use).
  public func generationUsers(image: String) throws(PiSwarmError) -> [String] {
    try read { db in
      try String.fetchAll(
        db, sql: "SELECT DISTINCT node FROM root_generations WHERE image = ? ORDER BY node", arguments: [image])
    }
  }

  /// The nodes with recorded generations.
  public func nodesWithGenerations() throws(PiSwarmError) -> [String] {
    try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT node FROM root_generations ORDER BY node") }
  }
}
