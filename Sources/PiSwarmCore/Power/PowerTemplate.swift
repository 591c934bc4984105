import Foundation

/// A power command template (`relay on {port}`): placeholders `{node} {ip} {mac} {serial}
/// {port}` replaced by the node's values, each quoted for the shell, so no value from the file
/// can change what the command does. `${name}` is the shell's, left alone.
public enum PowerTemplate {
  public static let placeholders = ["node", "ip", "mac", "serial", "port"]

  /// The placeholders in `template`, in order (with repeats), as `{name}` pieces: names are
  /// lowercase letters and `_`, and a `{` right after `$` is the shell's.
  static func pieces(_ template: String) -> [(range: Range<String.Index>, name: String)] {
    var found: [(Range<String.Index>, String)] = []
    var index = template.startIndex
    while let open = template[index...].firstIndex(of: "{") {
      let after = template.index(after: open)
      guard let close = template[after...].firstIndex(of: "}") else { break }
      let name = String(template[after..<close])
      let isShell = open > template.startIndex && template[template.index(before: open)] == "$"
      if !isShell, !name.isEmpty, name.allSatisfy({ ("a"..."z").contains($0) || $0 == "_" }) {
        found.append((open..<template.index(after: close), name))
        index = template.index(after: close)
      } else {
        index = after
      }
    }
    return found
  }

  /// `{name}`s in `template` that are not placeholders.
  public static func unknownPlaceholders(_ template: String) -> [String] {
    var seen: [String] = []
    for piece in pieces(template) where !placeholders.contains(piece.name) && !seen.contains(piece.name) {
      seen.append(piece.name)
    }
    return seen
  }

  /// The node's value for a placeholder; nil when it has none.
  public static func value(_ name: String, node: Node, port: String?) -> String? {
    switch name {
    case "node": node.name
    case "ip": node.ip.description
    case "mac": node.mac?.description
    case "serial": node.serial
    case "port": port
    default: nil
    }
  }

  /// The shell text for `node`: each placeholder replaced by its value, shell-quoted.
  public static func render(_ template: String, node: Node, port: String?) -> Result<String, PiSwarmError> {
    var text = ""
    var index = template.startIndex
    for piece in pieces(template) {
      text += template[index..<piece.range.lowerBound]
      guard let value = value(piece.name, node: node, port: port) else {
        let advice =
          piece.name == "port"
          ? "add port: to the node's power settings" : "add \(piece.name): to node \(node.name)'s entry in cluster.yml"
        return .failure(
          PiSwarmError(
            .invalidInput, "node \(node.name)'s power command uses {\(piece.name)}, but the node has no \(piece.name)",
            advice: advice))
      }
      text += Shell.quote(value)
      index = piece.range.upperBound
    }
    text += template[index...]
    return .success(text)
  }
}

/// Reading a driver's status output, purely.
public enum PowerStatusReading {
  /// Why `pattern` is not a regular expression, or nil.
  public static func patternProblem(_ pattern: String) -> String? {
    do {
      _ = try Regex(pattern)
      return nil
    } catch {
      return "\(error)"
    }
  }

  /// A `command` driver's status: with `onPattern`, on when it matches the output; otherwise
  /// off, or, with `offPattern` too, off only when that matches (unknown when neither does).
  /// Without patterns the exit status says: 0 on, 1 off, anything else unknown.
  public static func byPattern(output: String, status: Int32, onPattern: String?, offPattern: String?) -> PowerState {
    func matches(_ pattern: String) -> Bool {
      guard let regex = try? Regex(pattern) else { return false }
      return output.contains(regex)
    }
    guard let onPattern else {
      return status == 0 ? .on : status == 1 ? .off : .unknown
    }
    if matches(onPattern) { return .on }
    guard let offPattern else { return .off }
    return matches(offPattern) ? .off : .unknown
  }

  /// `clusterctrl status`: a line `pN:1` (on) or `pN:0` (off) for port N.
  public static func clusterHAT(_ output: String, port: String) -> PowerState {
    for line in output.split(whereSeparator: \.isNewline) {
      let text = line.trimmingCharacters(in: .whitespaces)
      if text == "p\(port):1" { return .on }
      if text == "p\(port):0" { return .off }
    }
    return .unknown
  }

  /// uhubctl's status of one port: the last `Port N: XXXX power …` (on) or `Port N: XXXX off`
  /// line (after a switch it prints the old status, then the new one).
  public static func uhubctl(_ output: String, port: String) -> PowerState {
    var state = PowerState.unknown
    for line in output.split(whereSeparator: \.isNewline) {
      let words = line.split(separator: " ")
      guard words.count >= 3, words[0] == "Port", words[1] == "\(port):" else { continue }
      let flags = words.dropFirst(3)
      if flags.contains("power") {
        state = .on
      } else if flags.contains("off") || flags.isEmpty {
        state = .off
      }
    }
    return state
  }
}
