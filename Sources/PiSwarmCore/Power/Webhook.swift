import Foundation

/// The `webhook` driver's settings, in MAAS's shape: a URI (and method) per action, a pattern
/// that says "on" in the status answer, and optional credentials (a bearer token, or a user
/// and password for HTTP basic auth). URIs may hold `{node}`, `{ip}`, `{mac}`, `{serial}`
/// (percent-encoded), so one `defaults.power` serves every node.
public struct WebhookSettings: Sendable {
  public struct Action: Sendable, Equatable {
    public var uri: String
    public var method: String
  }

  public var on: Action
  public var off: Action
  public var cycle: Action?
  public var status: Action?
  /// Matched against the status answer's body: a match means on. `off_pattern`, when given, must
  /// match for off; a body that matches neither is `unknown`.
  public var onPattern: String?
  public var offPattern: String?
  public var tokenSecret: String?
  public var user: String?
  public var passwordSecret: String?
  /// Plain `http://` URIs were allowed explicitly (`allow_http: true`).
  public var allowHTTP: Bool
  public var cycleDelay: Double

  public static let driver = "webhook"
  public static let keys: Set<String> = [
    "on_uri", "off_uri", "cycle_uri", "status_uri", "on_method", "off_method", "cycle_method", "status_method", "on_pattern",
    "off_pattern", "token_secret", "user", "password_secret", "allow_http", "cycle_delay",
  ]
  static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]

  public static func parse(_ settings: [String: String], node: String) throws(PiSwarmError) -> WebhookSettings {
    let reader = PowerSettingsReader(driver: driver, node: node, settings: settings)
    let allowHTTP = try reader.flag("allow_http")
    func action(_ name: String, defaultMethod: String, required: Bool) throws(PiSwarmError) -> Action? {
      let uri =
        required
        ? try reader.required("\(name)_uri", example: "https://pdu.lan/outlets/{node}/\(name)") : reader.optional("\(name)_uri")
      guard let uri else { return nil }
      guard let scheme = WebhookRequests.scheme(of: uri), scheme == "https" || (scheme == "http" && allowHTTP) else {
        throw PiSwarmError(
          .invalidInput, "\(reader.prefix)power \(name)_uri \"\(TerminalText.escaped(uri))\" is not an https:// URI",
          advice: WebhookRequests.scheme(of: uri) == "http"
            ? "use https (the server's key is pinned on first use); plain http sends credentials in clear: only with allow_http: true"
            : "write e.g. \(name)_uri: https://pdu.lan/outlets/{node}/\(name)")
      }
      let method = (reader.optional("\(name)_method") ?? defaultMethod).uppercased()
      guard methods.contains(method) else {
        throw PiSwarmError(
          .invalidInput,
          "\(reader.prefix)power \(name)_method \"\(TerminalText.escaped(method))\" is not an HTTP method piswarm sends",
          advice: "write one of \(methods.sorted().joined(separator: ", "))")
      }
      return Action(uri: uri, method: method)
    }
    guard let on = try action("on", defaultMethod: "POST", required: true),
      let off = try action("off", defaultMethod: "POST", required: true)
    else { throw PiSwarmError(.invalidInput, "\(reader.prefix)power driver webhook needs on_uri and off_uri") }
    let status = try action("status", defaultMethod: "GET", required: false)
    let onPattern = reader.optional("on_pattern")
    let offPattern = reader.optional("off_pattern")
    for (key, pattern) in [("on_pattern", onPattern), ("off_pattern", offPattern)] {
      guard let pattern else { continue }
      do { _ = try Regex(pattern) } catch {
        throw PiSwarmError(
          .invalidInput, "\(reader.prefix)power \(key) \"\(TerminalText.escaped(pattern))\" is not a regular expression",
          advice: "write e.g. \(key): \"power: on\"", cause: "\(error)")
      }
    }
    if status != nil && onPattern == nil {
      throw PiSwarmError(
        .invalidInput, "\(reader.prefix)power status_uri is set without on_pattern",
        advice: "add on_pattern: a regular expression that matches the status answer when the node is on, e.g. \"power: on\"")
    }
    let tokenSecret = try reader.secretName("token_secret")
    let user = reader.optional("user")
    let passwordSecret = try reader.secretName("password_secret")
    if tokenSecret != nil && (user != nil || passwordSecret != nil) {
      throw PiSwarmError(
        .invalidInput, "\(reader.prefix)power has token_secret and user/password_secret",
        advice: "use one: token_secret (Authorization: Bearer) or user with password_secret (basic auth)")
    }
    if (user == nil) != (passwordSecret == nil) {
      throw PiSwarmError(
        .invalidInput,
        "\(reader.prefix)power has \(user == nil ? "password_secret without user" : "user without password_secret")",
        advice: "basic auth needs both user and password_secret")
    }
    if let user, user.contains(":") || !user.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
      throw PiSwarmError(
        .invalidInput, "\(reader.prefix)power user \"\(TerminalText.escaped(user))\" cannot be sent in basic auth",
        advice: "a basic-auth user name holds no ':' and no control characters")
    }
    return WebhookSettings(
      on: on, off: off, cycle: try action("cycle", defaultMethod: "POST", required: false), status: status,
      onPattern: onPattern, offPattern: offPattern, tokenSecret: tokenSecret, user: user, passwordSecret: passwordSecret,
      allowHTTP: allowHTTP, cycleDelay: try reader.seconds("cycle_delay", default: 3))
  }

  /// Warnings worth printing when the cluster file is read: plain http.
  public var warnings: [String] {
    let plain = [("on_uri", on), ("off_uri", off), ("cycle_uri", cycle), ("status_uri", status)].compactMap { key, action in
      action.flatMap { WebhookRequests.scheme(of: $0.uri) == "http" ? key : nil }
    }
    guard !plain.isEmpty else { return [] }
    let credentials = tokenSecret != nil || passwordSecret != nil
    return [
      "power \(plain.joined(separator: ", ")) use\(plain.count == 1 ? "s" : "") plain http (allow_http: true)"
        + (credentials ? ": the credentials cross the network in clear" : ": anyone on the network can fake the answers")
    ]
  }
}

/// The webhook driver's requests, purely.
public enum WebhookRequests {
  /// The lowercase scheme of `uri`, nil when it has none.
  public static func scheme(of uri: String) -> String? {
    guard let colon = uri.range(of: "://") else { return nil }
    return uri[..<colon.lowerBound].lowercased()
  }

  /// The server a URI names: host and port (443 for https, 80 for http), nil when it names none
  /// piswarm accepts (a host name or IPv4 address, no user info).
  public static func endpoint(of uri: String) -> PowerEndpoint? {
    guard let scheme = scheme(of: uri), let start = uri.range(of: "://")?.upperBound else { return nil }
    let rest = uri[start...]
    let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    guard !authority.contains("@") else { return nil }
    return PowerEndpoint(String(authority), defaultPort: scheme == "https" ? 443 : 80)
  }

  /// `uri` with `{node}`, `{ip}`, `{mac}`, `{serial}` replaced by the node's values,
  /// percent-encoded (a value the node does not have is an error naming it).
  public static func expand(_ uri: String, node: Node) throws(PiSwarmError) -> String {
    let values: [(String, String?)] = [
      ("{node}", node.name), ("{ip}", node.ip.description), ("{mac}", node.mac?.description), ("{serial}", node.serial),
    ]
    var result = uri
    for (placeholder, value) in values where result.contains(placeholder) {
      guard let value else {
        throw PiSwarmError(
          .invalidInput,
          "node \(node.name) has no \(placeholder.dropFirst().dropLast()) for its power URI \(TerminalText.escaped(uri))",
          advice: "set it in cluster.yml, or write the URI without \(placeholder)")
      }
      let encoded = value.addingPercentEncoding(
        withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#&=+")))
      result = result.replacingOccurrences(of: placeholder, with: encoded ?? value)
    }
    guard endpoint(of: result) != nil else {
      throw PiSwarmError(
        .invalidInput, "node \(node.name): power URI \(TerminalText.escaped(result)) does not name a host piswarm accepts",
        advice: "write scheme://HOST[:PORT]/path with HOST a host name or an IPv4 address, without user:password@")
    }
    return result
  }

  /// The request for `action`, with the credentials as a header.
  public static func request(
    _ action: WebhookSettings.Action, node: Node, settings: WebhookSettings, token: Secret?, password: Secret?
  ) throws(PiSwarmError) -> HTTPRequest {
    var headers: [HTTPRequest.Header] = []
    if let token { headers.append(HTTPRequest.bearer(token)) }
    if let password, let user = settings.user { headers.append(HTTPRequest.basic(user: user, password: password)) }
    return HTTPRequest(method: action.method, url: try expand(action.uri, node: node), headers: headers)
  }

  /// The state the status answer's body says.
  public static func state(fromStatus body: String, _ settings: WebhookSettings) -> PowerState {
    func matches(_ pattern: String?) -> Bool {
      guard let pattern, let regex = try? Regex(pattern) else { return false }
      return body.contains(regex)
    }
    if matches(settings.onPattern) { return .on }
    if settings.offPattern == nil || matches(settings.offPattern) { return .off }
    return .unknown
  }
}
