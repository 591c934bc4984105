import Crypto
import Yams

/// What piswarm makes of a stack's compose configuration, as `docker stack config` printed it
/// (the files merged and interpolated, keys sorted): its hash, which decides whether a deployed
/// stack changed, its version and its services. Pure.
public struct StackConfig: Sendable, Equatable {
  /// The label piswarm puts on each service of a stack: the hash of the configuration it was
  /// deployed from. A service whose label matches was deployed from this configuration.
  public static let hashLabel = "io.piswarm.stack.config"
  /// The label the docker CLI puts on everything of a stack.
  public static let namespaceLabel = "com.docker.stack.namespace"

  /// The merged configuration, as printed.
  public var text: String
  /// Its compose `version` (the overlay must carry the same: the CLI refuses files of mixed
  /// versions); nil when it has none.
  public var version: String?
  /// Service names, sorted.
  public var services: [String]

  /// Reads `docker stack config`'s output; nil when it is not a compose mapping with services.
  public static func parse(_ text: String) -> StackConfig? {
    guard let root = try? Yams.compose(yaml: text), let top = root.mapping else { return nil }
    let version = top["version"]?.scalar?.string
    guard let services = top["services"]?.mapping else { return nil }
    return StackConfig(text: text, version: version, services: services.keys.compactMap { $0.scalar?.string }.sorted())
  }

  /// SHA-256 of the configuration, hex; the first 16 digits go on the services.
  public var hash: String { String(SHA256.hex(Array(text.utf8)).prefix(16)) }

  /// The extra compose file piswarm deploys beside the user's: it adds `hashLabel` to each
  /// service's deploy labels and changes nothing else.
  public func hashOverlay(stack: String) -> String {
    var lines = [
      "# Written by piswarm for stack \(TerminalText.escaped(stack)): labels each service with the hash of the",
      "# configuration it was deployed from, so an unchanged stack is not deployed again.",
    ]
    if let version { lines.append("version: \(YAMLText.quoted(version))") }
    lines.append("services:")
    for service in services {
      lines += [
        "  \(YAMLText.quoted(service)):", "    deploy:", "      labels:",
        "        \(Self.hashLabel): \(YAMLText.quoted(hash))",
      ]
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Whether the services deployed (their names without the stack prefix, and their hash
  /// labels) are this configuration's: every service there, each with this hash.
  public func isDeployed(_ deployed: [String: String?]) -> Bool {
    Set(deployed.keys) == Set(services) && deployed.values.allSatisfy { $0 == hash }
  }
}
