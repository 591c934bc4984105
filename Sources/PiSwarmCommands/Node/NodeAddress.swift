import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

enum NodeAddress {
  /// The first free host address after the highest node address (from the subnet's tenth address
  /// when there are no nodes), wrapping round to the start of the subnet; nil when all are taken.
  static func nextFree(in cluster: Cluster) -> IPv4Address? {
    let subnet = cluster.head.address
    let used = Set(cluster.nodes.map(\.ip) + [subnet.address])
    let size = Int(subnet.broadcast.value - subnet.network.value) + 1
    let start = cluster.nodes.map(\.ip).max().map { Int($0.value - subnet.network.value) + 1 } ?? min(10, size - 2)
    for step in 0..<size {
      guard let candidate = subnet.network.advanced(by: (start + step) % size) else { continue }
      if subnet.isHost(candidate) && !used.contains(candidate) { return candidate }
    }
    return nil
  }
}
