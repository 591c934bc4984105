import Foundation
import GRDB
import PiSwarmCore

/// The SQLite store in `STATE/state.sqlite`, through GRDB, with numbered migrations.
public final class SQLiteStateStore: StateStore {
  public static let fileName = "state.sqlite"
  let queue: DatabaseQueue

  /// Opens (creating if needed) and migrates the database at `path`.
  public init(path: String) throws(PiSwarmError) {
    do {
      var configuration = Configuration()
      configuration.busyMode = .timeout(5)
      queue = try DatabaseQueue(path: path, configuration: configuration)
      // It keeps secrets (the swarm's unlock key): only root reads it, whatever the umask.
      // SQLite gives its journal files the database's mode.
      chmod(path, 0o600)
      try Self.migrator.migrate(queue)
    } catch {
      throw PiSwarmError(
        .system, "cannot open the state store \(path)", advice: "check that the state directory is writable",
        cause: "\(error)")
    }
  }

  public convenience init(stateDirectory: String) throws(PiSwarmError) {
    try self.init(path: stateDirectory + "/" + Self.fileName)
  }

  /// Numbered migrations; a released one is never edited, only followed by a new one.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("1-initial") { db in
      try db.create(table: "runs") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("command", .text).notNull()
        t.column("pid", .integer).notNull()
        t.column("status", .text).notNull()
        t.column("started_at", .datetime).notNull()
        t.column("ended_at", .datetime)
      }
      try db.create(table: "steps") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
        t.column("node", .text).notNull()
        t.column("step", .text).notNull()
        t.column("status", .text).notNull()
        t.column("started_at", .datetime).notNull()
        t.column("ended_at", .datetime)
        t.column("error", .text)
      }
      try db.create(index: "steps_by_run", on: "steps", columns: ["run_id"])
      try db.create(table: "events") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("time", .datetime).notNull()
        t.column("node", .text)
        t.column("kind", .text).notNull()
        t.column("detail", .text).notNull()
      }
      try db.create(index: "events_by_node", on: "events", columns: ["node", "time"])
      try db.create(table: "node_facts") { t in
        t.column("node", .text).notNull()
        t.column("name", .text).notNull()
        t.column("value", .text).notNull()
        t.column("observed_at", .datetime).notNull()
        t.primaryKey(["node", "name"])
      }
    }
    // Imported OS images and the node roots made from them.
    migrator.registerMigration("3-images") { db in
      try db.create(table: "images") { t in
        t.primaryKey("name", .text)
        t.column("source", .text).notNull()
        t.column("compression", .text).notNull()
        t.column("os_release", .text).notNull()
        t.column("kernels", .text).notNull()
        t.column("modules", .text).notNull()
        t.column("image_size", .integer).notNull()
        t.column("source_size", .integer).notNull()
        t.column("sha256", .text).notNull()
        t.column("imported_at", .datetime).notNull()
      }
      try db.create(table: "node_roots") { t in
        t.primaryKey("node", .text)
        t.column("image", .text).notNull()
        t.column("method", .text).notNull()
        t.column("path", .text).notNull()
        t.column("host_key", .text).notNull()
        t.column("created_at", .datetime).notNull()
        t.column("updated_at", .datetime).notNull()
      }
      try db.create(index: "node_roots_by_image", on: "node_roots", columns: ["image"])
    }
    registerSwarmMigration(&migrator)
    registerGenerationsMigration(&migrator)
    return migrator
  }

  /// The migrations applied, in order.
  public func appliedMigrations() throws(PiSwarmError) -> [String] {
    try read { db in try Self.migrator.appliedMigrations(db) }
  }

  public func beginRun(command: String) throws(PiSwarmError) -> Int64 {
    try write { db in
      var run = RunRecord(id: nil, command: command, pid: getpid(), status: .running, startedAt: Date(), endedAt: nil)
      try run.insert(db)
      run.id = db.lastInsertedRowID
      return db.lastInsertedRowID
    }
  }

  public func endRun(_ run: Int64, status: RunStatus) throws(PiSwarmError) {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", arguments: [status.rawValue, Date(), run])
    }
  }

  public func recordStep(_ step: StepRecord) throws(PiSwarmError) {
    try write { db in try step.insert(db) }
  }

  public func recordEvent(_ event: EventRecord) throws(PiSwarmError) {
    try write { db in try event.insert(db) }
  }

  public func setFacts(node: String, facts: [String: String], at time: Date) throws(PiSwarmError) {
    try write { db in
      for (name, value) in facts {
        try FactRecord(node: node, name: name, value: value, observedAt: time).upsert(db)
      }
    }
  }

  public func facts(node: String) throws(PiSwarmError) -> [FactRecord] {
    try read { db in
      try FactRecord.filter(Column("node") == node).order(Column("name")).fetchAll(db)
    }
  }

  public func runs(limit: Int) throws(PiSwarmError) -> [RunRecord] {
    try read { db in try RunRecord.order(Column("id").desc).limit(limit).fetchAll(db) }
  }

  public func steps(run: Int64) throws(PiSwarmError) -> [StepRecord] {
    try read { db in try StepRecord.filter(Column("run_id") == run).order(Column("id")).fetchAll(db) }
  }

  public func events(node: String?, limit: Int) throws(PiSwarmError) -> [EventRecord] {
    try read { db in
      var request = EventRecord.order(Column("id").desc).limit(limit)
      if let node { request = request.filter(Column("node") == node) }
      return try request.fetchAll(db).reversed()
    }
  }

  func read<T>(_ body: (Database) throws -> T) throws(PiSwarmError) -> T {
    do { return try queue.read(body) } catch { throw PiSwarmError(.system, "cannot read the state store", cause: "\(error)") }
  }

  func write<T>(_ body: (Database) throws -> T) throws(PiSwarmError) -> T {
    do { return try queue.write(body) } catch { throw PiSwarmError(.system, "cannot write the state store", cause: "\(error)") }
  }
}
