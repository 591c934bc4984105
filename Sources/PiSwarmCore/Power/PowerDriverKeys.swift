/// Each power driver's keys in cluster.yml, in one table: which it needs, which it may have, an
/// example, and a check of their values. `ClusterReader` reports every problem, located at the
/// key; a driver reads only keys this table allows. One row per driver: adding a driver is
/// adding a row (and its `PowerDriver` in PiSwarmPower's `PowerDrivers`).
public enum PowerDriverKeys {
  public struct Row: Sendable {
    public var driver: String
    public var required: [String]
    /// Optional keys; `*_secret` allows any key ending in `_secret` (a secret's name).
    public var optional: [String]
    /// A whole example, for messages.
    public var example: String
    /// Problems with the values (the keys are checked already), by key.
    public var check: @Sendable ([String: String]) -> [Problem]

    public init(
      _ driver: String, required: [String] = [], optional: [String] = [], example: String,
      check: @escaping @Sendable ([String: String]) -> [Problem] = { _ in [] }
    ) {
      self.driver = driver
      self.required = required
      self.optional = optional
      self.example = example
      self.check = check
    }

    public func allows(_ key: String) -> Bool {
      required.contains(key) || optional.contains(key) || (optional.contains("*_secret") && key.hasSuffix("_secret"))
    }
  }

  /// One finding: the key it is about (nil: the driver as a whole) and what is wrong.
  public struct Problem: Sendable, Equatable {
    public var key: String?
    public var message: String
    /// A warning is printed and the file still reads (plain http where the user allowed it).
    public var isWarning: Bool

    public init(_ key: String?, _ message: String, isWarning: Bool = false) {
      self.key = key
      self.message = message
      self.isWarning = isWarning
    }
  }

  public static let rows: [Row] = [
    Row("none", example: "power: none"),
    Row(
      "command", required: ["on", "off"],
      optional: ["cycle", "status", "on_pattern", "off_pattern", "via", "port", "timeout", "*_secret"],
      example: "{ driver: command, on: \"relay on {port}\", off: \"relay off {port}\", port: 3 }",
      check: checkCommand),
    Row(
      "clusterhat", required: ["port"], optional: ["via", "timeout"],
      example: "{ driver: clusterhat, via: controller, port: 1 }",
      check: { settings in checkVia(settings) + checkTimeout(settings) + checkPort(settings, range: 1...16) }),
    Row(
      "uhubctl", required: ["location", "port"], optional: ["via", "timeout"],
      example: "{ driver: uhubctl, location: \"1-1.3\", port: 2 }",
      check: { settings in
        var problems = checkVia(settings) + checkTimeout(settings) + checkPort(settings, range: 1...255)
        if let location = settings["location"], !isHubLocation(location) {
          problems.append(
            Problem(
              "location",
              "location \"\(location)\" is not a USB hub location as uhubctl prints it (bus, then ports: 1-1.3); run 'uhubctl' to list them"
            ))
        }
        return problems
      }),
    Row("lab", required: ["lab"], example: "{ driver: lab, lab: NAME }"),
    Row(
      SNMPPoESettings.driver, required: ["host", "port"],
      optional: SNMPPoESettings.keys.subtracting(["host", "port"]).sorted(),
      example: "{ driver: snmp-poe, host: 192.168.1.2, port: 5, community_secret: poe-community }",
      check: { parsing($0, placeholders: ["host": "192.0.2.1", "port": "1"], SNMPPoESettings.parse) }),
    Row(
      TuringPiSettings.driver, required: ["host", "slot", "password_secret"],
      optional: TuringPiSettings.keys.subtracting(["host", "slot", "password_secret"]).sorted(),
      example: "{ driver: turingpi, host: turingpi.local, slot: 1, password_secret: turingpi-bmc }",
      check: { parsing($0, placeholders: ["host": "192.0.2.1", "slot": "1", "password_secret": "x"], TuringPiSettings.parse) }),
    Row(
      WebhookSettings.driver, required: ["on_uri", "off_uri"],
      optional: WebhookSettings.keys.subtracting(["on_uri", "off_uri"]).sorted(),
      example: "{ driver: webhook, on_uri: \"https://pdu.lan/{node}/on\", off_uri: \"https://pdu.lan/{node}/off\" }",
      check: { settings in
        let placeholders = ["on_uri": "https://192.0.2.1/", "off_uri": "https://192.0.2.1/"]
        let problems = parsing(settings, placeholders: placeholders, WebhookSettings.parse)
        guard problems.isEmpty, let parsed = try? WebhookSettings.parse(settings, node: "") else { return problems }
        return parsed.warnings.map { Problem(nil, $0, isWarning: true) }
      }),
  ]

  /// The first problem a network driver's own parsing finds in the values. Required keys are
  /// the table's to report (and may come from the node while these are the defaults): a missing
  /// one is parsed as its placeholder.
  static func parsing<T>(
    _ settings: [String: String], placeholders: [String: String],
    _ parse: ([String: String], String) throws(PiSwarmError) -> T
  ) -> [Problem] {
    do {
      _ = try parse(settings.merging(placeholders) { given, _ in given }, "")
      return []
    } catch {
      // The reader says "… power:" before it.
      let message = error.message.hasPrefix("power ") ? String(error.message.dropFirst(6)) : error.message
      return [Problem(nil, error.advice.map { "\(message); \($0)" } ?? message)]
    }
  }

  public static var drivers: [String] { rows.map(\.driver) }

  public static func row(_ driver: String) -> Row? { rows.first { $0.driver == driver } }

  /// Names of keys that would hold a credential in clear.
  static let credentialWords = ["password", "passphrase", "community", "token", "secret", "apikey", "api_key"]

  /// Whether `key` names a credential given in clear (`password:`, `community:`, `auth_token:`…).
  public static func isClearCredential(_ key: String) -> Bool {
    if key.hasSuffix("_secret") { return false }
    let lowered = key.lowercased()
    return credentialWords.contains { lowered == $0 || lowered.hasSuffix("_" + $0) || lowered.hasPrefix($0 + "_") }
  }

  /// Every problem with `config`'s keys and values: unknown keys (with the closest known one),
  /// credentials in clear, missing required keys, bad secret names, the driver's own checks.
  /// `partial` settings (`defaults.power`, which nodes complete with their own keys) are not
  /// held to the required keys, and the driver's own checks run once they are all there.
  public static func problems(_ config: PowerConfig, partial: Bool = false) -> [Problem] {
    guard let row = row(config.driver) else {
      return [Problem(nil, "unknown power driver \"\(config.driver)\"\(Suggestion.hint(for: config.driver, in: drivers))")]
    }
    var problems: [Problem] = []
    let known = row.required + row.optional.filter { $0 != "*_secret" }
    for key in config.settings.keys.sorted() {
      if isClearCredential(key) {
        let name = "\(config.driver)-\(key.replacingAll(in: "_", with: "-"))"
        problems.append(
          Problem(
            key,
            "\"\(key)\" would keep a credential in clear in cluster.yml; store it with 'piswarm secret set \(name)' (the value is read from stdin) and write \(key)_secret: \(name) instead"
          ))
      } else if !row.allows(key) {
        let list = known.isEmpty ? "it takes no keys" : "its keys: \(known.joined(separator: ", "))"
        problems.append(
          Problem(
            key,
            "unknown key \"\(key)\" for the \(config.driver) driver\(Suggestion.hint(for: key, in: known)); \(list)\(row.optional.contains("*_secret") ? ", and NAME_secret" : "")"
          ))
      } else if key.hasSuffix("_secret"), let name = config.settings[key], !Secret.isValidName(name) {
        problems.append(
          Problem(
            key,
            "\(key) \"\(name)\" is not a secret's name (lowercase letters, digits, '.', '_' and '-'): it names a secret stored with 'piswarm secret set NAME', never the value itself"
          ))
      }
    }
    let missing = row.required.filter { config.settings[$0]?.isEmpty ?? true }
    if partial, !missing.isEmpty { return problems }
    for key in missing {
      problems.append(Problem(nil, "the \(config.driver) driver needs \"\(key)\", e.g. power: \(row.example)"))
    }
    if problems.isEmpty { problems += row.check(config.settings) }
    return problems
  }

  // MARK: - Values

  static func checkCommand(_ settings: [String: String]) -> [Problem] {
    var problems = checkVia(settings) + checkTimeout(settings)
    for key in ["on", "off", "cycle", "status"] {
      guard let template = settings[key] else { continue }
      for name in PowerTemplate.unknownPlaceholders(template) {
        problems.append(
          Problem(
            key,
            "\(key) uses {\(name)}, which is not a placeholder; use \(PowerTemplate.placeholders.map { "{\($0)}" }.joined(separator: ", ")) (write ${\(name)} for a shell variable)"
          ))
      }
      if template.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
        problems.append(Problem(key, "\(key) must be one line; put a longer script in a file on the head and call it"))
      }
    }
    for key in ["on_pattern", "off_pattern"] {
      guard let pattern = settings[key] else { continue }
      if settings["status"] == nil {
        problems.append(Problem(key, "\(key) reads the output of the status command: add status: \"…\""))
      } else if let problem = PowerStatusReading.patternProblem(pattern) {
        problems.append(Problem(key, "\(key) \"\(pattern)\" is not a regular expression: \(problem)"))
      }
    }
    if settings["via"] != nil, let key = settings.keys.sorted().first(where: { $0.hasSuffix("_secret") }) {
      problems.append(
        Problem(
          key,
          "\(key) goes to the command in its environment on the head; with via: the command runs on another node, where piswarm does not send secrets: run it on the head (drop via:) or keep the credential on that node"
        ))
    }
    return problems
  }

  static func checkVia(_ settings: [String: String]) -> [Problem] {
    guard let via = settings["via"] else { return [] }
    guard HostName.problem(with: via) == nil else {
      return [Problem("via", "via \"\(via)\" is not a node name; name the node of this file that runs the command")]
    }
    return []
  }

  static func checkTimeout(_ settings: [String: String]) -> [Problem] {
    guard let raw = settings["timeout"] else { return [] }
    guard let seconds = Double(raw), seconds > 0, seconds <= 3600 else {
      return [Problem("timeout", "timeout \"\(raw)\" must be seconds, more than 0 and at most 3600, e.g. timeout: 30")]
    }
    return []
  }

  static func checkPort(_ settings: [String: String], range: ClosedRange<Int>) -> [Problem] {
    guard let raw = settings["port"] else { return [] }
    guard let port = Int(raw), range.contains(port) else {
      return [Problem("port", "port \"\(raw)\" must be a number from \(range.lowerBound) to \(range.upperBound)")]
    }
    return []
  }

  /// `1`, `1-1`, `1-1.3.2`: a bus, then ports separated by `-` once and `.` after.
  static func isHubLocation(_ text: String) -> Bool {
    let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
    let digits = { (part: Substring) in !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigitCharacter) }
    guard let bus = parts.first, digits(bus) else { return false }
    guard parts.count == 2 else { return true }
    return parts[1].split(separator: ".", omittingEmptySubsequences: false).allSatisfy(digits)
  }

  /// Hub locations that are a Raspberry Pi 4's or 5's onboard hub (root hubs and the Pi 4's VL805
  /// at 1-1), whose ports switch together.
  public static let onboardHubLocations: Set<String> = ["1", "2", "3", "4", "1-1"]
}
