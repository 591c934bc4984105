/// A shell script that runs on nodes. Each one is a checked file in `Sources/PiSwarmCore/Scripts`
/// (shellcheck reads it in `make lint`), embedded here at build time by the EmbedScripts plugin
/// as a constant of this type. Parameters go in by name, through the environment.
public struct RemoteScript: Sendable, Hashable {
  /// The file's name, e.g. `engine-apply.sh`.
  public let name: String
  public let text: String

  public init(name: String, text: String) {
    self.name = name
    self.text = text
  }

  /// The argument vector that runs the script with `parameters` in its environment:
  /// `env NAME=VALUE … sh -c TEXT NAME`. Values may hold anything; names are the script's own
  /// upper-case words.
  public func command(_ parameters: [(name: String, value: String)] = []) -> [String] {
    let assignments = parameters.map { "\($0.name)=\($0.value)" }
    return (assignments.isEmpty ? [] : ["env"] + assignments) + ["sh", "-c", text, name]
  }

  /// The names the script requires (`: "${NAME:?}"` or `"${NAME?}"` lines), in order.
  public var parameterNames: [String] {
    var names: [String] = []
    for line in text.split(separator: "\n") where line.hasPrefix(":") || line.hasPrefix("  \"${") {
      var rest = Substring(line)
      while let start = rest.range(of: "${") {
        let tail = rest[start.upperBound...]
        let name = tail.prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
        if !name.isEmpty, !names.contains(String(name)) { names.append(String(name)) }
        rest = tail
      }
    }
    return names
  }
}
