import Yams

/// The state directory's `secrets` file: a YAML mapping of secret names to their values, kept
/// 0600. Rendered and read here, purely; `SecretStore` (PiSwarmSystem) does the file.
public enum SecretsFile {
  public static let name = "secrets"

  public static func render(_ secrets: [String: String]) -> String {
    var text = "# piswarm's credentials, referenced from cluster.yml by name. Keep this file 0600.\n"
    text += "# Change it with `piswarm secret set NAME` (the value is read from stdin).\n"
    for name in secrets.keys.sorted() {
      text += YAMLText.scalar(name) + ": " + YAMLText.quoted(secrets[name] ?? "") + "\n"
    }
    return text
  }

  /// The names and values in `text`. Errors never quote a value.
  public static func parse(_ text: String, path: String) throws(PiSwarmError) -> [String: String] {
    let node: Yams.Node?
    do {
      node = try Yams.compose(yaml: text)
    } catch {
      throw PiSwarmError(
        .invalidInput, "\(path) is not a YAML mapping of secret names to values",
        advice: "fix or remove it, then store each secret again with `piswarm secret set NAME`")
    }
    guard let node else { return [:] }
    guard let mapping = node.mapping else {
      throw PiSwarmError(
        .invalidInput, "\(path) is not a YAML mapping of secret names to values",
        advice: "fix or remove it, then store each secret again with `piswarm secret set NAME`")
    }
    var secrets: [String: String] = [:]
    for (key, value) in mapping {
      guard let name = key.string, Secret.isValidName(name) else {
        throw PiSwarmError(
          .invalidInput, "\(path) holds an entry whose name is not a secret name",
          advice: "names are lowercase letters, digits, '.', '_' and '-'; fix the file")
      }
      guard let text = value.scalar?.string else {
        throw PiSwarmError(
          .invalidInput, "secret \"\(name)\" in \(path) is not a string",
          advice: "store it again with `piswarm secret set \(name)`")
      }
      secrets[name] = text
    }
    return secrets
  }
}
