import Foundation
import PiSwarmCore

extension SSHTransport {
  /// Runs the preflight script on every node at once. Unreachable nodes are findings too.
  /// The clock offset is the node's time minus the midpoint of the head's before and after.
  public func preflight(_ nodes: [Node], parallel: Int) -> [Preflight.Finding] {
    let perNode = FanOut.run(
      nodes, parallel: parallel, skipped: { (_: Node) -> [Preflight.Finding] in [] },
      { (node: Node) -> [Preflight.Finding] in
        let before = Date().timeIntervalSince1970
        let result = run(node, ["sh", "-c", Preflight.script])
        let after = Date().timeIntervalSince1970
        guard result.ok else {
          return [Preflight.Finding(node: node.name, check: "ssh", severity: .error, message: result.message ?? result.status)]
        }
        let facts = Preflight.parse(result.stdout)
        let offset = facts["time"].flatMap(Double.init).map { $0 - (before + after) / 2 }
        return Preflight.evaluate(facts, node: node, clockOffset: offset)
      })
    return perNode.flatMap { $0 }
  }
}
