import Foundation

/// A power driver's settings (`PowerConfig.settings`) read key by key, with errors that name the
/// node, the driver and the key, and say what to write instead.
public struct PowerSettingsReader: Sendable {
  public let driver: String
  public let node: String
  public let settings: [String: String]

  public init(driver: String, node: String, settings: [String: String]) {
    self.driver = driver
    self.node = node
    self.settings = settings
  }

  /// `node NAME: ` before a message, or nothing for settings read without a node (the cluster
  /// file's checks, which locate their messages at the key).
  public var prefix: String { node.isEmpty ? "" : "node \(node): " }

  /// The key's value with surrounding white space trimmed; nil when missing or empty.
  public func optional(_ key: String) -> String? {
    guard let value = settings[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
    return value
  }

  public func required(_ key: String, example: String) throws(PiSwarmError) -> String {
    guard let value = optional(key) else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power driver \(driver) needs the key \(key)",
        advice: "set it under the node's power (or defaults.power) in cluster.yml, e.g. \(key): \(example)")
    }
    return value
  }

  public func integer(
    _ key: String, in range: ClosedRange<Int>, default fallback: Int? = nil, example: String
  )
    throws(PiSwarmError) -> Int
  {
    guard let text = optional(key) else {
      if let fallback { return fallback }
      _ = try required(key, example: example)
      return range.lowerBound
    }
    guard let value = Int(text), range.contains(value) else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power \(key) \"\(text)\" is not a number from \(range.lowerBound) to \(range.upperBound)",
        advice: "write e.g. \(key): \(example)")
    }
    return value
  }

  /// Seconds, like `cycle_delay: 3` or `2.5`, from 0 to `maximum`.
  public func seconds(_ key: String, default fallback: Double, maximum: Double = 600) throws(PiSwarmError) -> Double {
    guard let text = optional(key) else { return fallback }
    guard let value = Double(text), value.isFinite, value >= 0, value <= maximum else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power \(key) \"\(text)\" is not a number of seconds from 0 to \(Int(maximum))",
        advice: "write e.g. \(key): \(Int(fallback))")
    }
    return value
  }

  /// The name of a secret (`community_secret: poe-community`), checked as a name: the value is
  /// looked up in the state directory's secrets when the driver runs.
  public func secretName(_ key: String) throws(PiSwarmError) -> String? {
    guard let name = optional(key) else { return nil }
    guard Secret.isValidName(name) else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power \(key) \"\(name)\" is not a secret name",
        advice:
          "name the secret (lowercase letters, digits, '.', '_', '-'), store its value with `piswarm secret set NAME` and write \(key): NAME; never the value itself"
      )
    }
    return name
  }

  public func requiredSecretName(_ key: String, example: String) throws(PiSwarmError) -> String {
    guard let name = try secretName(key) else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power driver \(driver) needs the key \(key)",
        advice: "store the credential with `piswarm secret set \(example)` and write \(key): \(example)")
    }
    return name
  }

  /// `HOST` or `HOST:PORT`, HOST an IPv4 address or a DNS name: what a driver connects to, also
  /// part of a pin file's name, so nothing else passes.
  public func endpoint(_ key: String, defaultPort: Int, example: String) throws(PiSwarmError) -> PowerEndpoint {
    let text = try required(key, example: example)
    guard let endpoint = PowerEndpoint(text, defaultPort: defaultPort) else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power \(key) \"\(text)\" is not a host name or IPv4 address (with an optional :PORT)",
        advice: "write e.g. \(key): \(example)")
    }
    return endpoint
  }

  /// One of `choices` (compared in uppercase), else `fallback`.
  public func choice(
    _ key: String, among choices: [String], default fallback: String, hint: String
  ) throws(PiSwarmError)
    -> String
  {
    let value = (optional(key) ?? fallback).uppercased()
    guard choices.contains(value) else {
      throw PiSwarmError(
        .invalidInput, "\(prefix)power \(key) \"\(value)\" is not one of \(choices.joined(separator: ", "))",
        advice: "write \(hint) \(key), e.g. \(key): \(fallback)")
    }
    return value
  }

  /// A yes/no key (`allow_http: true`).
  public func flag(_ key: String) throws(PiSwarmError) -> Bool {
    guard let text = optional(key)?.lowercased() else { return false }
    switch text {
    case "true", "yes", "on", "1": return true
    case "false", "no", "off", "0": return false
    default:
      throw PiSwarmError(
        .invalidInput, "\(prefix)power \(key) \"\(text)\" is not true or false", advice: "write \(key): true")
    }
  }

  /// Keys that are not among `known`, sorted: likely typos, for warnings.
  public func unknownKeys(_ known: Set<String>) -> [String] {
    settings.keys.filter { !known.contains($0) }.sorted()
  }
}

/// A host (a lowercase DNS name or an IPv4 address) and a port.
public struct PowerEndpoint: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  public init?(_ text: String, defaultPort: Int) {
    var host = Substring(text)
    var port = defaultPort
    if let colon = text.lastIndex(of: ":") {
      guard let number = Int(text[text.index(after: colon)...]), (1...65535).contains(number) else { return nil }
      host = text[..<colon]
      port = number
    }
    let name = host.lowercased()
    guard IPv4Address(name) != nil || Self.isDNSName(name) else { return nil }
    self.host = name
    self.port = port
  }

  /// Labels of RFC 1123 host names joined by dots, at most 253 characters.
  static func isDNSName(_ name: String) -> Bool {
    guard (1...253).contains(name.utf8.count) else { return false }
    return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { HostName.isValid(String($0)) }
  }

  /// `HOST:PORT`.
  public var description: String { "\(host):\(port)" }
}
