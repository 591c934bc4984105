import Foundation

/// The `turingpi` driver's settings: one slot of a Turing Pi 2 board, switched through its BMC's
/// HTTPS API (firmware 2.x, `bmcd`).
public struct TuringPiSettings: Sendable, Equatable {
  /// The BMC (HTTPS, port 443 unless `host: HOST:PORT`).
  public var bmc: PowerEndpoint
  /// The node's slot on the board, 1 to 4.
  public var slot: Int
  public var user: String
  public var passwordSecret: String
  public var cycleDelay: Double

  public static let driver = "turingpi"
  public static let keys: Set<String> = ["host", "slot", "user", "password_secret", "cycle_delay"]

  public static func parse(_ settings: [String: String], node: String) throws(PiSwarmError) -> TuringPiSettings {
    let reader = PowerSettingsReader(driver: driver, node: node, settings: settings)
    return TuringPiSettings(
      bmc: try reader.endpoint("host", defaultPort: 443, example: "turingpi.local"),
      slot: try reader.integer("slot", in: 1...4, example: "1"),
      user: reader.optional("user") ?? "root",
      passwordSecret: try reader.requiredSecretName("password_secret", example: "turingpi-bmc"),
      cycleDelay: try reader.seconds("cycle_delay", default: 3))
  }
}

/// The Turing Pi 2 BMC API, purely: requests and what their answers mean. bmcd answers
/// `POST /api/bmc/authenticate` with a session whose `id` is the bearer token (403 for wrong
/// credentials), and the `GET /api/bmc?opt=…&type=…` calls in its legacy shape
/// `{"response": [{"result": …}]}`: `"ok"` for a set, `[{"node1": "1", …}]` for the power
/// state (firmware 1.x answered `{"response": [{"node1": 1, …}]}`, also understood).
public enum TuringPiAPI {
  static func base(_ settings: TuringPiSettings) -> String {
    settings.bmc.port == 443 ? "https://\(settings.bmc.host)" : "https://\(settings.bmc.host):\(settings.bmc.port)"
  }

  public static func authenticate(_ settings: TuringPiSettings, password: Secret) -> HTTPRequest {
    let body: [String: String] = ["username": settings.user, "password": password.value]
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = (try? encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    return HTTPRequest(
      method: "POST", url: base(settings) + "/api/bmc/authenticate",
      headers: [.init("Content-Type", "application/json")], body: json)
  }

  public static func setPower(_ settings: TuringPiSettings, on: Bool, token: Secret) -> HTTPRequest {
    HTTPRequest(
      method: "GET", url: base(settings) + "/api/bmc?opt=set&type=power&node\(settings.slot)=\(on ? 1 : 0)",
      headers: [HTTPRequest.bearer(token)])
  }

  public static func getPower(_ settings: TuringPiSettings, token: Secret) -> HTTPRequest {
    HTTPRequest(method: "GET", url: base(settings) + "/api/bmc?opt=get&type=power", headers: [HTTPRequest.bearer(token)])
  }

  /// The bearer token in the answer to `authenticate`.
  public static func token(from response: HTTPResponse, _ settings: TuringPiSettings) throws(PiSwarmError) -> Secret {
    guard response.isSuccess else {
      if response.status == 401 || response.status == 403 {
        throw PiSwarmError(
          .invalidInput,
          "the Turing Pi BMC at \(settings.bmc) refused user \(settings.user) with password_secret \(settings.passwordSecret)",
          advice: "check power.user and store the BMC's password with `piswarm secret set \(settings.passwordSecret)`")
      }
      throw unexpected(response, settings, doing: "log in")
    }
    guard case .string(let token)? = JSONValue.parse(response.body)?["id"], !token.isEmpty else {
      throw PiSwarmError(
        .system, "the Turing Pi BMC at \(settings.bmc) answered the login without a token",
        advice: "piswarm speaks the API of BMC firmware 2.x; update the BMC's firmware")
    }
    return Secret(name: "turingpi-session", value: token)
  }

  /// Checks the answer to `setPower`.
  public static func checkSet(_ response: HTTPResponse, _ settings: TuringPiSettings) throws(PiSwarmError) {
    guard response.isSuccess else { throw unexpected(response, settings, doing: "switch slot \(settings.slot)") }
    guard case .string(let result)? = result(of: response), result == "ok" else {
      throw PiSwarmError(
        .system, "the Turing Pi BMC at \(settings.bmc) did not confirm switching slot \(settings.slot): \(response.bodyExcerpt)")
    }
  }

  /// The slot's state in the answer to `getPower`.
  public static func state(from response: HTTPResponse, _ settings: TuringPiSettings) throws(PiSwarmError) -> PowerState {
    guard response.isSuccess else { throw unexpected(response, settings, doing: "read the power state") }
    let key = "node\(settings.slot)"
    var value: JSONValue?
    switch result(of: response) {
    case .array(let items)?: value = items.lazy.compactMap { $0[key] }.first
    case .object(let object)?: value = object[key]
    default: value = nil
    }
    if value == nil, case .array(let items)? = JSONValue.parse(response.body)?["response"] {
      value = items.lazy.compactMap { $0[key] }.first
    }
    switch value {
    case .string("1")?, .number(1)?, .bool(true)?: return .on
    case .string("0")?, .number(0)?, .bool(false)?: return .off
    case .string?: return .unknown
    default:
      throw PiSwarmError(
        .system, "the Turing Pi BMC at \(settings.bmc) answered without slot \(settings.slot)'s state: \(response.bodyExcerpt)")
    }
  }

  /// `response[0].result` of the legacy shape.
  static func result(of response: HTTPResponse) -> JSONValue? {
    guard case .array(let items)? = JSONValue.parse(response.body)?["response"] else { return nil }
    return items.lazy.compactMap { $0["result"] }.first
  }

  static func unexpected(_ response: HTTPResponse, _ settings: TuringPiSettings, doing what: String) -> PiSwarmError {
    if response.status == 401 {
      return PiSwarmError(
        .system, "the Turing Pi BMC at \(settings.bmc) refused piswarm's session token to \(what)",
        advice: "run the command again; if it persists, check the BMC's clock and its token lifetime (/etc/bmcd/config.yaml)")
    }
    return PiSwarmError(
      .system, "the Turing Pi BMC at \(settings.bmc) answered HTTP \(response.status) to \(what)",
      advice: "check that \(settings.bmc) is a Turing Pi 2 BMC with firmware 2.x",
      cause: response.bodyExcerpt.isEmpty ? nil : response.bodyExcerpt)
  }
}
