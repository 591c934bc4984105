import PiSwarmCore
import PiSwarmSystem

/// `webhook`: a node switched by HTTP requests to URIs of its own (MAAS's webhook driver):
/// `on_uri`, `off_uri`, optional `cycle_uri` (else off, a pause, on) and `status_uri`, whose
/// answer says on when it matches `on_pattern`. Credentials: a bearer token or basic auth, from
/// secrets. HTTPS with the server's key pinned on first use; plain http only with
/// `allow_http: true`. Without a status_uri, status is `unknown`.
public struct WebhookDriver: PowerDriver {
  public let name = WebhookSettings.driver
  public var tools: PowerTools

  public init(tools: PowerTools = PowerTools()) {
    self.tools = tools
  }

  public func run(
    _ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext
  ) throws(PiSwarmError)
    -> PowerState
  {
    let settings = try WebhookSettings.parse(config.settings, node: node.name)
    let token = try context.secrets.secret(named: settings.tokenSecret)
    let password = try context.secrets.secret(named: settings.passwordSecret)
    let https = PinnedHTTPS(tools: tools, stateDirectory: context.stateDirectory)
    func send(_ action: WebhookSettings.Action, _ what: String) throws(PiSwarmError) -> HTTPResponse {
      let request = try WebhookRequests.request(action, node: node, settings: settings, token: token, password: password)
      guard let endpoint = WebhookRequests.endpoint(of: request.url) else {
        throw PiSwarmError(.invalidInput, "node \(node.name): power \(what)_uri names no host piswarm accepts")
      }
      let response = try https.send(request, to: endpoint, allowHTTP: settings.allowHTTP)
      guard response.isSuccess else {
        if response.status == 401 || response.status == 403 {
          let credential =
            settings.tokenSecret.map { "token_secret \($0)" } ?? settings.passwordSecret.map { "user and password_secret \($0)" }
            ?? "no credentials"
          throw PiSwarmError(
            .invalidInput, "\(request.summary) was refused (HTTP \(response.status)) with \(credential)",
            advice: "check the credential the server wants and store it with `piswarm secret set NAME`")
        }
        throw PiSwarmError(
          .system, "\(request.summary) answered HTTP \(response.status)",
          advice: "check power.\(what)_uri and power.\(what)_method for node \(node.name)",
          cause: response.bodyExcerpt.isEmpty ? nil : response.bodyExcerpt)
      }
      return response
    }
    do {
      if verb == .cycle, let cycle = settings.cycle {
        _ = try send(cycle, "cycle")
        return .on
      }
      return try perform(
        verb, cycleDelay: settings.cycleDelay,
        set: { on throws(PiSwarmError) in
          _ = try send(on ? settings.on : settings.off, on ? "on" : "off")
          return on ? .on : .off
        },
        read: { () throws(PiSwarmError) in
          guard let status = settings.status else { return .unknown }
          return WebhookRequests.state(fromStatus: try send(status, "status").body, settings)
        })
    } catch {
      throw error.redacting([token, password].compactMap { $0 })
    }
  }
}
