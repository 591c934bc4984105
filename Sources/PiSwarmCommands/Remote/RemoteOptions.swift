import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Options of every command that reaches nodes over SSH.
struct RemoteOptions: ParsableArguments {
  @Option(help: "How many nodes at once.")
  var parallel = 32

  @Option(help: "Seconds to wait for an SSH connection.")
  var connectTimeout = 5

  @Option(help: "Seconds a command may run on a node (default: no limit).")
  var timeout: Double?

  @Option(help: "Extra tries after a connection failure (with backoff).")
  var retries = 2

  @Flag(help: "Record the host key of a node seen for the first time (for machines piswarm did not create).")
  var trustNew = false

  func validate() throws {
    guard (1...1024).contains(parallel) else { throw ValidationError("--parallel must be 1 to 1024") }
    guard (1...300).contains(connectTimeout) else { throw ValidationError("--connect-timeout must be 1 to 300 seconds") }
    if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
    guard (0...10).contains(retries) else { throw ValidationError("--retries must be 0 to 10") }
  }

  /// The start of every command that reaches nodes: the cluster file read, the target resolved,
  /// the SSH transport ready, and Ctrl-C set to close the masters of those nodes.
  func session(
    _ global: GlobalOptions, target: String = "all", printWarnings: Bool = false
  ) throws(PiSwarmError) -> (
    cluster: Cluster, nodes: [Node], transport: SSHTransport
  ) {
    let cluster = try global.loadCluster(printWarnings: printWarnings).cluster
    let nodes = try Targets.resolve(target, in: cluster).get()
    let transport = transport(cluster, global: global)
    try transport.prepare()
    Interrupts.install { transport.closeMasters(nodes) }
    return (cluster, nodes, transport)
  }

  func transport(_ cluster: Cluster, global: GlobalOptions) -> SSHTransport {
    let key = cluster.ssh.key.map(Files.expandTilde) ?? global.defaultKey
    return SSHTransport(
      stateDirectory: global.stateDirectory, user: cluster.ssh.user, key: Files.absolute(key), connectTimeout: connectTimeout,
      commandTimeout: timeout, retries: retries, trustNew: trustNew)
  }
}

extension SSHTransport {
  /// With --trust-new: runs `body`, then says which nodes' keys were recorded for the first time.
  func reportingNewKeys<T>(_ nodes: [Node], _ body: () throws -> T) rethrows -> T {
    let unpinned = trustNew ? nodes.filter { !isPinned($0) } : []
    let result = try body()
    for node in unpinned where isPinned(node) {
      Console.err("\(node.name): recorded its host key \(fingerprint(node) ?? "") seen for the first time (--trust-new)")
    }
    return result
  }
}

extension Array where Element == NodeResult {
  /// `N of M nodes ok; failed: …` for stderr.
  func summary() -> String {
    let failed = filter { !$0.ok }
    var text = "\(count - failed.count) of \(count) node\(count == 1 ? "" : "s") ok"
    if !failed.isEmpty {
      text += "; failed:\n" + failed.map { "  \($0.node): \($0.status): \($0.message ?? "")" }.joined(separator: "\n")
    }
    return text
  }
}
