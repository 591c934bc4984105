/// `TARGET` of `piswarm exec` and `facts`: all, managers, workers, label=KEY=VALUE, or node names
/// (comma-separated, ranges allowed: node[01-03]).
public enum Targets {
  public static func resolve(_ target: String, in cluster: Cluster) -> Result<[Node], PiSwarmError> {
    switch target {
    case "all": return .success(cluster.nodes)
    case "managers": return .success(cluster.managers)
    case "workers": return .success(cluster.workers)
    default: break
    }
    if target.hasPrefix("label=") {
      let pair = target.dropFirst("label=".count).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard pair.count == 2, !pair[0].isEmpty else {
        return .failure(PiSwarmError(.invalidInput, "target \"\(target)\" is not label=KEY=VALUE, e.g. label=rack=a"))
      }
      let (key, value) = (String(pair[0]), String(pair[1]))
      return .success(cluster.nodes.filter { (cluster.swarm.labels.merging($0.labels) { $1 })[key] == value })
    }
    var names: [String] = []
    for part in target.split(separator: ",") {
      switch HostRange.parse(String(part)) {
      case .success(let range)?: names += range.names
      case .failure(let failure)?: return .failure(PiSwarmError(.invalidInput, "target \(failure.message)"))
      case nil: names.append(String(part))
      }
    }
    guard !names.isEmpty else {
      return .failure(
        PiSwarmError(.invalidInput, "empty target", advice: "use all, managers, workers, label=KEY=VALUE or node names"))
    }
    var nodes: [Node] = []
    for name in names {
      guard let node = cluster.node(named: name) else {
        let known = cluster.nodes.map(\.name) + ["all", "managers", "workers"]
        return .failure(
          PiSwarmError(
            .invalidInput, "\"\(name)\" is not a node of cluster \(cluster.name)\(Suggestion.hint(for: name, in: known))",
            advice: "targets: all, managers, workers, label=KEY=VALUE, or node names like node01,node02 or node[01-03]"))
      }
      if !nodes.contains(where: { $0.name == name }) { nodes.append(node) }
    }
    return .success(nodes)
  }
}
