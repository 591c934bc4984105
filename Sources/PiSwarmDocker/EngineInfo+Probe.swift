import Foundation
import PiSwarmCore

extension EngineInfo {
  /// dockerd's `/info` as Docker's setup probe read it on `node` (Scripts/engine-probe.sh, with
  /// curl through the socket): the node's word, decoded as the Engine API's answer and refused,
  /// with why, when it is not one.
  public static func fromProbe(_ text: String, node: String) throws(PiSwarmError) -> EngineInfo {
    do {
      return try JSONDecoder().decode(EngineInfo.self, from: Data(text.utf8))
    } catch {
      throw PiSwarmError(
        .system, "\(node): dockerd's /info, as the node read it, is not the Engine API's answer",
        advice: "see what the node's dockerd says: 'piswarm exec \(node) -- docker info'",
        cause: PiSwarmError.Text(Self.describe(error)))
    }
  }

  /// A decoding error in a few words: where in the document, and what was wrong there (never
  /// the node's text itself).
  static func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "not JSON" }
    func path(_ context: DecodingError.Context) -> String {
      let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return keys.isEmpty ? "the document" : keys.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "\(path(context)): no \(key.stringValue)"
    case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): wrong type"
    case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not JSON" : "\(path(context)): not readable"
    @unknown default: return "not JSON"
    }
  }
}

extension SwarmInfo {
  /// The node's own swarm state as the planner reads it. Its IDs go into the Engine API's paths
  /// and the planner's comparisons: anything but 1 to 64 letters and digits (Docker's IDs are 25
  /// lowercase ones) is refused.
  public func local(node: String) throws(PiSwarmError) -> LocalSwarm {
    let nodeID = NodeID.flatMap { $0.isEmpty ? nil : $0 }
    for (what, id) in [("node ID", nodeID), ("cluster ID", Cluster?.ID)] {
      guard let id, !Self.isID(id) else { continue }
      throw PiSwarmError(
        .system, "\(node): dockerd reports a \(what) that is not an ID (\(id.count) characters, not all letters and digits)",
        advice: "check the node's dockerd ('piswarm exec \(node) -- docker info'); piswarm leaves it alone meanwhile")
    }
    return LocalSwarm(
      state: LocalNodeState, nodeID: nodeID, clusterID: Cluster?.ID, controlAvailable: ControlAvailable ?? false)
  }

  static func isID(_ text: String) -> Bool {
    (1...64).contains(text.utf8.count)
      && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
  }
}
