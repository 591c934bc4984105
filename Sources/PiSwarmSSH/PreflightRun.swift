import Foundation
import PiSwarmCore

extension SSHTransport {
  /// Runs the preflight script on every node at once. Unreachable nodes are findings too.
  /// The clock offset is the node's time minus the midpoint of the head's before and after.
  public func preflight(_ nodes: [Node], parallel: Int) -> [Preflight.Finding] {
    preflight(nodes, parallel: parallel, alsoRunning: nil).findings
  }

  /// The same, with `script` run in the same round trip after the checks, with its parameters
  /// beside preflight's; what it printed comes back per node name (nodes that could not be
  /// reached have none).
  public func preflight(
    _ nodes: [Node], parallel: Int, alsoRunning script: (RemoteScript, [(name: String, value: String)])?
  ) -> (findings: [Preflight.Finding], outputs: [String: String]) {
    let command = Self.preflightCommand(alsoRunning: script)
    let perNode = FanOut.run(
      nodes, parallel: parallel, skipped: { (_: Node) -> ([Preflight.Finding], String?) in ([], nil) },
      { (node: Node) -> ([Preflight.Finding], String?) in
        let before = Date().timeIntervalSince1970
        let result = run(node, command)
        let after = Date().timeIntervalSince1970
        guard result.ok else {
          return (
            [Preflight.Finding(node: node.name, check: "ssh", severity: .error, message: result.message ?? result.status)], nil
          )
        }
        let parts = result.stdout.components(separatedBy: Self.separator + "\n")
        let facts = Preflight.parse(parts[0])
        let offset = facts["time"].flatMap(Double.init).map { $0 - (before + after) / 2 }
        return (Preflight.evaluate(facts, node: node, clockOffset: offset), parts.count > 1 ? parts[1] : nil)
      })
    var outputs: [String: String] = [:]
    for (node, result) in zip(nodes, perNode) where result.1 != nil { outputs[node.name] = result.1 }
    return (perNode.flatMap(\.0), outputs)
  }

  static let separator = "--- piswarm: end of preflight ---"

  /// Preflight's script, followed by `script` after a separator line, with both their parameters.
  static func preflightCommand(alsoRunning script: (RemoteScript, [(name: String, value: String)])?) -> [String] {
    guard let (script, parameters) = script else { return Preflight.script.command(Preflight.environment) }
    let combined = RemoteScript(
      name: Preflight.script.name, text: Preflight.script.text + "echo '\(separator)'\n" + script.text)
    let shared = Set(Preflight.environment.map(\.name))
    return combined.command(Preflight.environment + parameters.filter { !shared.contains($0.name) })
  }
}
