import Yams

/// Edits `cluster.yml` as text, touching only the lines of the node being added or removed, so
/// the user's comments and layout everywhere else survive byte for byte.
public enum ClusterFileEditor {
  /// A node as `piswarm node add` writes it.
  public struct NodeSpec: Sendable, Equatable {
    public var name: String
    public var ip: IPv4Address
    public var mac: MACAddress?
    public var serial: String?
    public var model: BoardModel?
    public var boot: BootMode?
    public var dockerStorage: DockerStorage?
    public var labels: [(String, String)]

    public init(
      name: String, ip: IPv4Address, mac: MACAddress? = nil, serial: String? = nil, model: BoardModel? = nil,
      boot: BootMode? = nil, dockerStorage: DockerStorage? = nil, labels: [(String, String)] = []
    ) {
      self.name = name
      self.ip = ip
      self.mac = mac
      self.serial = serial
      self.model = model
      self.boot = boot
      self.dockerStorage = dockerStorage
      self.labels = labels
    }

    public static func == (lhs: NodeSpec, rhs: NodeSpec) -> Bool {
      lhs.name == rhs.name && lhs.ip == rhs.ip && lhs.mac == rhs.mac && lhs.serial == rhs.serial
        && lhs.model == rhs.model && lhs.boot == rhs.boot && lhs.dockerStorage == rhs.dockerStorage
        && lhs.labels.map { [$0.0, $0.1] } == rhs.labels.map { [$0.0, $0.1] }
    }

    /// True when `name` is a host range (`node[02-10]`): the entry then gives the first node's
    /// addresses as FIRST+, as the cluster file writes a range.
    public var isRange: Bool { HostRange.parse(name) != nil }

    /// The entry's lines, the dash at `indent` spaces.
    func lines(indent: Int) -> [String] {
      let pad = String(repeating: " ", count: indent)
      let plus = isRange ? "+" : ""
      var fields: [(String, String)] = [("name", YAMLText.scalar(name)), ("ip", ip.description + plus)]
      if let mac { fields.append(("mac", YAMLText.scalar(mac.description + plus))) }
      if let serial { fields.append(("serial", YAMLText.scalar(serial))) }
      if let model { fields.append(("model", YAMLText.scalar(model.rawValue))) }
      if let boot { fields.append(("boot", boot.rawValue)) }
      if let dockerStorage { fields.append(("docker_storage", YAMLText.scalar(dockerStorage.description))) }
      if !labels.isEmpty { fields.append(("labels", YAMLText.flowMapping(labels))) }
      return fields.enumerated().map { index, field in
        pad + (index == 0 ? "- " : "  ") + "\(field.0): \(field.1)"
      }
    }
  }

  /// The text with `node` appended as the last entry of `nodes`.
  public static func adding(_ node: NodeSpec, to text: String) throws(PiSwarmError) -> String {
    var lines = Lines(text)
    let top = try topMapping(text)
    guard let (key, value) = top.first(where: { $0.key.scalar?.string == "nodes" }).map({ ($0.key, $0.value) }) else {
      lines.appendAtEnd(["nodes:"] + node.lines(indent: 2))
      return lines.text
    }
    let keyLine = (key.mark?.line ?? 1) - 1
    let keyIndent = lines.indent(keyLine)
    if let items = value.sequence, !lines.isFlow(value), let last = items.last {
      let dash = try lines.dash(before: last)
      let end = lines.end(ofItemAt: dash.line, dashColumn: dash.column)
      lines.insert(node.lines(indent: dash.column), after: end)
      return lines.text
    }
    let isEmpty = value.sequence.map { $0.isEmpty } ?? (value.scalar.map { ["", "~", "null"].contains($0.string) } ?? false)
    guard isEmpty, (value.mark?.line ?? keyLine + 1) - 1 == keyLine || value.scalar?.string == "" else {
      throw PiSwarmError(
        .invalidInput, "cannot add to \"nodes\" at line \(keyLine + 1): it is not written as a block list",
        advice: "write nodes as a list of \"- name: …\" entries, one key per line, then run the command again")
    }
    // `nodes:`, `nodes: []` or `nodes: ~`: rewrite the key line, keeping a trailing comment.
    let comment = lines.trailingComment(keyLine)
    lines.replace(keyLine, with: String(repeating: " ", count: keyIndent) + "nodes:" + (comment.map { "  " + $0 } ?? ""))
    lines.insert(node.lines(indent: keyIndent + 2), after: keyLine)
    return lines.text
  }

  /// The text without the entry of node `name`.
  public static func removing(node name: String, from text: String) throws(PiSwarmError) -> String {
    var lines = Lines(text)
    let top = try topMapping(text)
    let value = top.first(where: { $0.key.scalar?.string == "nodes" })?.value
    guard let value, let items = value.sequence, !lines.isFlow(value) else {
      throw PiSwarmError(.notFound, "no node \"\(name)\" in the cluster file", advice: "'piswarm node ls' lists the nodes")
    }
    var names: [String] = []
    for item in items {
      guard let entryName = item.mapping?["name"]?.scalar?.string else { continue }
      if entryName == name {
        let dash = try lines.dash(before: item)
        let end = lines.end(ofItemAt: dash.line, dashColumn: dash.column)
        lines.remove(dash.line...end)
        return lines.text
      }
      if case .success(let range)? = HostRange.parse(entryName), range.names.contains(name) {
        throw PiSwarmError(
          .invalidInput,
          "node \"\(name)\" comes from the range \"\(entryName)\" at line \(item.mark?.line ?? 0); a single node cannot be removed from a range",
          advice: "edit the range in the cluster file (for example split it in two) and run 'piswarm validate'")
      }
      names.append(entryName)
    }
    throw PiSwarmError(
      .notFound, "no node \"\(name)\" in the cluster file\(Suggestion.hint(for: name, in: names))",
      advice: "'piswarm node ls' lists the nodes")
  }

  static func topMapping(_ text: String) throws(PiSwarmError) -> Yams.Node.Mapping {
    let root: Yams.Node?
    do { root = try Yams.compose(yaml: text) } catch {
      throw PiSwarmError(.invalidInput, "the cluster file is not valid YAML", advice: "run 'piswarm validate' to see where")
    }
    guard let mapping = root?.mapping else {
      throw PiSwarmError(.invalidInput, "the cluster file is not a mapping", advice: "run 'piswarm validate' to see why")
    }
    return mapping
  }
}

extension Substring {
  func range(of needle: String) -> Range<Index>? {
    guard !needle.isEmpty else { return nil }
    var index = startIndex
    while index < endIndex {
      if self[index...].hasPrefix(needle) { return index..<(self.index(index, offsetBy: needle.count)) }
      index = self.index(after: index)
    }
    return nil
  }
}
