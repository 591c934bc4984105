import Foundation
import GRDB
import PiSwarmCore

/// What swarm runs remember between runs (migration 4-swarm-state): one value per name.
/// Values may be secrets (the unlock key): never print or log them.
public enum SwarmStateName: String, Sendable {
  /// Set before a join token is sent to any node, cleared after the tokens were rotated.
  case rotationOwed = "rotation_owed"
  /// The managers' autolock unlock key.
  case unlockKey = "unlock_key"
}

extension SQLiteStateStore {
  static func registerSwarmMigration(_ migrator: inout DatabaseMigrator) {
    migrator.registerMigration("4-swarm-state") { db in
      try db.create(table: "swarm_state") { t in
        t.primaryKey("name", .text)
        t.column("value", .text).notNull()
        t.column("updated_at", .datetime).notNull()
      }
    }
  }

  public func swarmValue(_ name: SwarmStateName) throws(PiSwarmError) -> String? {
    try read { db in try String.fetchOne(db, sql: "SELECT value FROM swarm_state WHERE name = ?", arguments: [name.rawValue]) }
  }

  /// Sets (or, with nil, removes) a value; committed (and synced) when this returns, so it
  /// survives the process being killed right after.
  public func setSwarmValue(_ name: SwarmStateName, _ value: String?) throws(PiSwarmError) {
    try write { db in
      if let value {
        try db.execute(
          sql: "INSERT OR REPLACE INTO swarm_state (name, value, updated_at) VALUES (?, ?, ?)",
          arguments: [name.rawValue, value, Date()])
      } else {
        try db.execute(sql: "DELETE FROM swarm_state WHERE name = ?", arguments: [name.rawValue])
      }
    }
  }
}
