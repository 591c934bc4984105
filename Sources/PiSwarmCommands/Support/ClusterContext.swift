import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

extension GlobalOptions {
  /// Reads and validates the cluster file; prints its diagnostics and throws on errors. Whether
  /// others can change the file is said always (`checkAccess`), but once per command.
  func loadCluster(printWarnings: Bool = true, checkAccess: Bool = true) throws(PiSwarmError) -> LoadedCluster {
    let path = clusterFile
    let bytes: Data
    do { bytes = try Files.read(path) } catch  where error.code == .notFound {
      throw PiSwarmError(
        .invalidInput, "no cluster file at \(path)",
        advice: "run 'piswarm init' to write one, or point to yours with --file or PISWARM_FILE")
    }
    let decoded = ClusterFile.decode(bytes: bytes)
    if checkAccess { warnAboutClusterFileAccess(path) }
    for diagnostic in decoded.diagnostics where printWarnings || diagnostic.severity == .error {
      Console.err(diagnostic.formatted(file: path))
    }
    guard var cluster = decoded.cluster else {
      throw PiSwarmError(
        .invalidInput, "\(path) has \(decoded.diagnostics.errors.count) error(s)", advice: "fix them and run the command again")
    }
    cluster.currentRoots = currentRoots(cluster)
    return LoadedCluster(
      path: path, text: String(decoding: bytes, as: UTF8.self), bytes: bytes, cluster: cluster,
      diagnostics: decoded.diagnostics)
  }

  /// Warns (`FILE: warning: …`) when users other than root can change the cluster file or
  /// replace it in its folder: piswarm runs as root and does what the file says.
  func warnAboutClusterFileAccess(_ path: String) {
    func status(_ path: String) -> ClusterFileAccess.Status? {
      var info = stat()
      guard stat(path, &info) == 0 else { return nil }
      return ClusterFileAccess.Status(owner: info.st_uid, group: info.st_gid, mode: UInt32(info.st_mode))
    }
    guard let file = status(path) else { return }
    let folderPath = URL(fileURLWithPath: Files.absolute(path)).deletingLastPathComponent().path
    let folder = status(folderPath).map { (path: folderPath, status: $0) }
    if let warning = ClusterFileAccess.warning(path: path, file: file, folder: folder, reader: geteuid()) {
      Console.err(warning)
    }
  }

  /// Runs `body` as a mutating command: the state directory exists (0700), the lock is held, the
  /// run is journaled in the state store.
  /// The root generation each netboot node boots, for the nodes `upgrade`, `rollback` or a
  /// backup gave generations (the others boot `NFS_ROOT/NODE`); empty without a state store.
  func currentRoots(_ cluster: Cluster) -> [String: Cluster.CurrentRoot] {
    guard Files.exists(stateDirectory + "/" + SQLiteStateStore.fileName),
      let store = try? SQLiteStateStore(stateDirectory: stateDirectory),
      let nodes = try? store.nodesWithGenerations()
    else { return [:] }
    var roots: [String: Cluster.CurrentRoot] = [:]
    for name in nodes where cluster.node(named: name)?.boot == .netboot {
      guard let current = (try? store.generations(node: name)).flatMap(RootGenerations.current),
        HeadPath.contains(cluster.head.nfsRoot, current.path)
      else { continue }
      roots[name] = Cluster.CurrentRoot(path: current.path, image: current.image)
    }
    return roots
  }

  func mutating<T>(_ command: String, _ body: (Journal) throws(PiSwarmError) -> T) throws(PiSwarmError) -> T {
    try Files.makePrivateDirectory(stateDirectory)
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
