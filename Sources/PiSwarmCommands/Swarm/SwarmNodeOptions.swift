import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

struct SwarmNodeOptions: ParsableArguments {
  @Argument(help: "The node.")
  var node: String

  @Option(help: "Seconds to wait for its tasks to move.")
  var wait: Double = 120

  /// The cluster and the one node named.
  func target(_ global: GlobalOptions) throws(PiSwarmError) -> (Cluster, Node) {
    let cluster = try global.loadCluster(printWarnings: false).cluster
    let nodes = try Targets.resolve(node, in: cluster).get()
    guard nodes.count == 1, let target = nodes.first else { throw PiSwarmError(.invalidInput, "name one node, e.g. node04") }
    return (cluster, target)
  }
}
