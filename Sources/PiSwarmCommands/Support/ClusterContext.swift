import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

/// A decoded cluster file and its text, for commands that read or edit it.
struct LoadedCluster {
  var path: String
  var text: String
  var bytes: Data
  var cluster: Cluster
  var diagnostics: [Diagnostic]
}

extension GlobalOptions {
  /// Reads and validates the cluster file; prints its diagnostics and throws on errors.
  func loadCluster(printWarnings: Bool = true) throws(PiSwarmError) -> LoadedCluster {
    let path = clusterFile
    let bytes: Data
    do { bytes = try Files.read(path) } catch  where error.code == .notFound {
      throw PiSwarmError(
        .invalidInput, "no cluster file at \(path)",
        advice: "run 'piswarm init' to write one, or point to yours with --file or PISWARM_FILE")
    }
    let decoded = ClusterFile.decode(bytes: bytes)
    for diagnostic in decoded.diagnostics where printWarnings || diagnostic.severity == .error {
      Console.err(diagnostic.formatted(file: path))
    }
    guard let cluster = decoded.cluster else {
      throw PiSwarmError(
        .invalidInput, "\(path) has \(decoded.diagnostics.errors.count) error(s)", advice: "fix them and run the command again")
    }
    return LoadedCluster(
      path: path, text: String(decoding: bytes, as: UTF8.self), bytes: bytes, cluster: cluster,
      diagnostics: decoded.diagnostics)
  }

  /// Runs `body` as a mutating command: the state directory exists (0700), the lock is held, the
  /// run is journaled in the state store.
  func mutating<T>(_ command: String, _ body: (Journal) throws(PiSwarmError) -> T) throws(PiSwarmError) -> T {
    try Files.makeDirectory(stateDirectory, mode: 0o700)
    let lock = try StateLock.acquire(stateDirectory: stateDirectory, command: command)
    defer { lock.release() }
    let store = try SQLiteStateStore(stateDirectory: stateDirectory)
    let run = try store.beginRun(command: command)
    do {
      let result = try body(Journal(store: store, run: run))
      // An interrupted run stopped before its end: journaled as failed.
      try store.endRun(run, status: Cancellation.isCancelled ? .failed : .succeeded)
      return result
    } catch {
      try? store.endRun(run, status: .failed)
      throw error
    }
  }
}

/// The command line as typed, for the lock record and the run journal (no secrets are ever
/// passed as arguments).
var commandLine: String {
  (["piswarm"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
}

/// The store and the run a mutating command is journaled as.
struct Journal {
  let store: SQLiteStateStore
  let run: Int64

  func step(node: String, _ step: String, status: String, started: Date, error: String? = nil) throws(PiSwarmError) {
    try store.recordStep(
      StepRecord(runID: run, node: node, step: step, status: status, startedAt: started, endedAt: Date(), error: error))
  }
}
