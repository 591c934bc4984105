import Foundation

/// The `snmp-poe` driver's settings: a PoE switch port switched through POWER-ETHERNET-MIB's
/// `pethPsePortAdminEnable` (RFC 3621), SNMPv2c with a community or SNMPv3 with a user.
public struct SNMPPoESettings: Sendable, Equatable {
  public enum Version: String, Sendable {
    case v2c = "2c"
    case v3 = "3"
  }

  /// The switch's SNMP agent (UDP, port 161 unless `host: HOST:PORT`).
  public var agent: PowerEndpoint
  /// The PoE port (pethPsePortIndex) and its group (pethPsePortGroupIndex: 1 on switches that
  /// are not modular or stacked).
  public var port: Int
  public var group: Int
  public var version: Version
  /// v2c: the community's secret name.
  public var communitySecret: String?
  /// v3: the USM user, its protocols and the names of its passphrases' secrets (no auth secret:
  /// noAuthNoPriv; no priv secret: authNoPriv).
  public var user: String?
  public var authProtocol: String
  public var privProtocol: String
  public var authSecret: String?
  public var privSecret: String?
  /// Seconds between off and on in `cycle`.
  public var cycleDelay: Double

  public static let driver = "snmp-poe"
  public static let keys: Set<String> = [
    "host", "port", "group", "version", "community_secret", "user", "auth_protocol", "auth_secret", "priv_protocol",
    "priv_secret", "cycle_delay",
  ]
  public static let authProtocols = ["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"]
  public static let privProtocols = ["DES", "AES", "AES-192", "AES-256"]

  public static func parse(_ settings: [String: String], node: String) throws(PiSwarmError) -> SNMPPoESettings {
    let reader = PowerSettingsReader(driver: driver, node: node, settings: settings)
    let agent = try reader.endpoint("host", defaultPort: 161, example: "192.168.1.2")
    let port = try reader.integer("port", in: 1...65535, example: "5")
    let group = try reader.integer("group", in: 1...65535, default: 1, example: "1")
    let versionText = reader.optional("version") ?? "2c"
    guard let version = Version(rawValue: versionText.lowercased().replacingOccurrences(of: "v", with: "")) else {
      throw PiSwarmError(
        .invalidInput, "\(reader.prefix)power version \"\(versionText)\" is not an SNMP version piswarm speaks",
        advice: "write version: 2c (a community) or version: 3 (a user)")
    }
    let authProtocol = try reader.choice(
      "auth_protocol", among: authProtocols, default: "SHA", hint: "the switch's SNMPv3 user's")
    let privProtocol = try reader.choice(
      "priv_protocol", among: privProtocols, default: "AES", hint: "the switch's SNMPv3 user's")
    var settings = SNMPPoESettings(
      agent: agent, port: port, group: group, version: version, communitySecret: nil, user: nil,
      authProtocol: authProtocol, privProtocol: privProtocol, authSecret: nil, privSecret: nil,
      cycleDelay: try reader.seconds("cycle_delay", default: 3))
    switch version {
    case .v2c:
      settings.communitySecret = try reader.requiredSecretName("community_secret", example: "poe-community")
    case .v3:
      let user = try reader.required("user", example: "piswarm")
      guard user.unicodeScalars.allSatisfy({ $0.isASCIIAlphanumeric || "._-".unicodeScalars.contains($0) }), user.count <= 32
      else {
        throw PiSwarmError(
          .invalidInput, "\(reader.prefix)power user \"\(user)\" is not an SNMPv3 user name piswarm accepts",
          advice: "use up to 32 letters, digits, '.', '_' or '-'")
      }
      settings.user = user
      settings.authSecret = try reader.secretName("auth_secret")
      settings.privSecret = try reader.secretName("priv_secret")
      if settings.privSecret != nil && settings.authSecret == nil {
        throw PiSwarmError(
          .invalidInput, "\(reader.prefix)power priv_secret is set without auth_secret",
          advice: "SNMPv3 privacy needs authentication: add auth_secret: NAME")
      }
    }
    return settings
  }

  /// pethPsePortAdminEnable.GROUP.PORT.
  public var oid: String { "\(SNMPPoE.adminEnable).\(group).\(port)" }

  /// The agent as net-snmp's tools take it.
  public var agentAddress: String { "udp:\(agent.host):\(agent.port)" }

  /// The port as messages name it.
  public var portDescription: String { group == 1 ? "port \(port)" : "port \(port) (group \(group))" }
}

/// The pure part of talking to a PoE switch with net-snmp's `snmpset` and `snmpget`: the
/// client configuration that carries the credentials (so that no community or passphrase is
/// ever an argument, visible in /proc), the arguments, and what their output means.
public enum SNMPPoE {
  /// POWER-ETHERNET-MIB::pethPsePortAdminEnable (1 = true: power on, 2 = false: off).
  public static let adminEnable = "1.3.6.1.2.1.105.1.1.1.3"

  /// The credentials' values, looked up by the driver.
  public struct Credentials: Sendable {
    public var community: Secret?
    public var auth: Secret?
    public var priv: Secret?

    public init(community: Secret? = nil, auth: Secret? = nil, priv: Secret? = nil) {
      self.community = community
      self.auth = auth
      self.priv = priv
    }
  }

  /// `snmp.conf` for one request, written 0600 into a private folder named by SNMPCONFPATH and
  /// removed after it: defaults net-snmp's tools take instead of `-c`, `-u`, `-A`, `-X`.
  public static func clientConfiguration(_ settings: SNMPPoESettings, credentials: Credentials) throws(PiSwarmError) -> String {
    var lines = [
      "# piswarm: net-snmp client settings for one request to \(settings.agent.host); removed after it.",
      "mibs :",
      "defVersion \(settings.version.rawValue)",
    ]
    switch settings.version {
    case .v2c:
      guard let community = credentials.community else {
        throw PiSwarmError(.invalidInput, "the snmp-poe driver needs community_secret for SNMPv2c")
      }
      lines.append("defCommunity \(try quoted(community))")
    case .v3:
      lines.append("defSecurityName \(quoted(plain: settings.user ?? ""))")
      if let auth = credentials.auth {
        lines.append("defAuthType \(settings.authProtocol)")
        lines.append("defAuthPassphrase \(try quoted(passphrase: auth))")
        if let priv = credentials.priv {
          lines.append("defSecurityLevel authPriv")
          lines.append("defPrivType \(settings.privProtocol)")
          lines.append("defPrivPassphrase \(try quoted(passphrase: priv))")
        } else {
          lines.append("defSecurityLevel authNoPriv")
        }
      } else {
        lines.append("defSecurityLevel noAuthNoPriv")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Timeout per try and retries: a switch that does not answer (or drops a wrong community,
  /// as agents do) fails within about 6 s.
  static let transport = ["-t", "2", "-r", "2"]

  /// `snmpset` arguments that switch the port on or off; the value alone is printed.
  public static func setArguments(_ settings: SNMPPoESettings, on: Bool) -> [String] {
    ["-Oqv"] + transport + [settings.agentAddress, settings.oid, "i", on ? "1" : "2"]
  }

  /// `snmpget` arguments that read the port's state.
  public static func getArguments(_ settings: SNMPPoESettings) -> [String] {
    ["-Oqv"] + transport + [settings.agentAddress, settings.oid]
  }

  /// The state in the tools' output (`-Oqv`: `1`, `2`, or net-snmp's "No Such Instance…"
  /// text for a port the switch does not have).
  public static func state(fromOutput output: String, _ settings: SNMPPoESettings) throws(PiSwarmError) -> PowerState {
    let value = output.trimmingCharacters(in: .whitespacesAndNewlines)
    switch value {
    case "1", "true", "true(1)": return .on
    case "2", "false", "false(2)": return .off
    default:
      if value.contains("No Such Instance") || value.contains("No Such Object") || value.contains("No more variables") {
        throw notAPoEPort(settings)
      }
      throw PiSwarmError(
        .system,
        "\(settings.agent.host) answered \"\(TerminalText.escaped(String(value.prefix(80))))\" for \(settings.portDescription)'s PoE state",
        advice: "pethPsePortAdminEnable is 1 (on) or 2 (off); check that the switch implements POWER-ETHERNET-MIB")
    }
  }

  /// What a failed `snmpset`/`snmpget` means, from its stderr (never quoting a credential: the
  /// tools do not print them, and the message names secrets only).
  public static func failure(stderr: String, status: Int32, _ settings: SNMPPoESettings) -> PiSwarmError {
    // net-snmp notes the folders it makes in its (fresh, private) persistent directory.
    let text = stderr.split(separator: "\n").filter { !$0.hasPrefix("Created directory:") }.joined(separator: "\n")
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let host = settings.agent.host
    if ["notWritable", "noSuchName", "noCreation", "No Such Instance", "No Such Object", "inconsistentName"].contains(
      where: text.contains)
    {
      return notAPoEPort(settings)
    }
    if text.contains("noAccess") || text.contains("authorizationError") || text.contains("readOnly") {
      return PiSwarmError(
        .system, "\(host) does not let these credentials switch \(settings.portDescription)",
        advice: settings.version == .v2c
          ? "give the community write access on the switch (a read-write community), or name one that has it in community_secret"
          : "give the SNMPv3 user \(settings.user ?? "") write access to POWER-ETHERNET-MIB on the switch", cause: text)
    }
    if text.contains("Timeout") || text.contains("Authentication failure") || text.contains("Unknown user name")
      || text.contains("Decryption error")
    {
      switch settings.version {
      case .v2c:
        return PiSwarmError(
          .system, "no answer from \(host) with that community — check community_secret (\(settings.communitySecret ?? ""))",
          advice:
            "check that \(settings.agent) is the switch's SNMP agent, that SNMP is on, and the secret's value (`piswarm secret set \(settings.communitySecret ?? "NAME")`)",
          cause: text)
      case .v3:
        return PiSwarmError(
          .system,
          "\(host) did not accept SNMPv3 user \(settings.user ?? "") — check user, auth_secret, priv_secret and the protocols",
          advice:
            "compare auth_protocol (\(settings.authProtocol)) and priv_protocol (\(settings.privProtocol)) with the switch's user; store the passphrases again with `piswarm secret set NAME`",
          cause: text)
      }
    }
    if text.contains("Unknown host") || text.contains("unreachable") || text.contains("Unknown engine ID") {
      return PiSwarmError(
        .system, "cannot reach the switch at \(settings.agent)",
        advice: "check power.host and that the head has a route to the switch", cause: text)
    }
    return PiSwarmError(
      .system, "net-snmp failed (status \(status)) for \(settings.portDescription) on \(host)",
      advice: "try the same by hand: snmpget -v \(settings.version.rawValue) … \(settings.agentAddress) \(settings.oid)",
      cause: text.isEmpty ? nil : text)
  }

  static func notAPoEPort(_ settings: SNMPPoESettings) -> PiSwarmError {
    PiSwarmError(
      .invalidInput, "\(settings.portDescription) is not a PoE port on \(settings.agent.host)",
      advice:
        "check power.port (the switch's PoE port number) and power.group (1 unless the switch is modular or stacked): pethPsePortAdminEnable.\(settings.group).\(settings.port) does not exist"
    )
  }

  /// A value in net-snmp's configuration syntax: double quotes, `\` before `"` and `\`. A
  /// line break or other control character cannot be carried (the file is read line by line).
  static func quoted(_ secret: Secret) throws(PiSwarmError) -> String {
    guard !secret.value.isEmpty, secret.value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
      throw PiSwarmError(
        .invalidInput, "secret \(secret.name) is empty or holds a line break or control character, which net-snmp cannot take",
        advice: "store it again with `piswarm secret set \(secret.name)`")
    }
    return quoted(plain: secret.value)
  }

  /// An SNMPv3 passphrase: net-snmp (and RFC 3414's key localization) wants at least 8 characters.
  static func quoted(passphrase secret: Secret) throws(PiSwarmError) -> String {
    guard secret.value.utf8.count >= 8 else {
      throw PiSwarmError(
        .invalidInput, "secret \(secret.name) is shorter than 8 characters, the least an SNMPv3 passphrase may have",
        advice: "store the switch user's real passphrase with `piswarm secret set \(secret.name)`")
    }
    return try quoted(secret)
  }

  static func quoted(plain value: String) -> String {
    "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}
