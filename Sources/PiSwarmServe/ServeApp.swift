import Dispatch
import Foundation
import Hummingbird
import Logging
import PiSwarmCore
import Synchronization

/// The HTTP side of `piswarm serve`: routes over the watcher's snapshot and the pure renderers.
/// Nothing here waits for a node: pages read the last observations; actions run on a thread of
/// their own while only the asking request waits.
public struct ServeApp: Sendable {
  /// What the command line hands over: the effects, as functions.
  public struct Effects: Sendable {
    /// A node's facts, events, tasks and how to reach it (reads the state store).
    public var detail: @Sendable (Node, NodeView) -> Pages.NodeDetail
    /// `/api/status`: the JSON of `piswarm status --json` for these observations.
    public var status: @Sendable ([String: NodeView]) -> Data
    /// Runs an action (on, off, cycle, drain, activate) on a node: whether it worked and what to say.
    public var act: @Sendable (Node, String) -> (ok: Bool, message: String)

    public init(
      detail: @escaping @Sendable (Node, NodeView) -> Pages.NodeDetail,
      status: @escaping @Sendable ([String: NodeView]) -> Data,
      act: @escaping @Sendable (Node, String) -> (ok: Bool, message: String)
    ) {
      self.detail = detail
      self.status = status
      self.act = act
    }
  }

  public static let actions = [
    "on": "power on", "off": "power off", "cycle": "power cycle", "drain": "drain", "activate": "activate",
  ]

  public let cluster: Cluster
  public let watcher: Watcher
  public let access: Access
  public let readOnly: Bool
  public let effects: Effects
  /// Set when serve is asked to stop: the event streams end, so the server's graceful shutdown
  /// does not wait for browsers that keep them open.
  public let closing = Flag()

  /// A flag that any thread may set once.
  public final class Flag: Sendable {
    let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .relaxed) }
    public var isSet: Bool { value.load(ordering: .relaxed) }
  }

  public init(cluster: Cluster, watcher: Watcher, access: Access, readOnly: Bool, effects: Effects) {
    self.cluster = cluster
    self.watcher = watcher
    self.access = access
    self.readOnly = readOnly
    self.effects = effects
  }

  /// Serves on every address until SIGINT or SIGTERM.
  public func run(listen: [(host: String, port: Int)]) async throws {
    var logger = Logger(label: "piswarm.serve") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .info
    let router = router()
    guard let first = listen.first else { return }
    let others = listen.dropFirst().map { address in
      Application(
        router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "piswarm"),
        logger: logger)
    }
    let main = Application(
      router: router, configuration: .init(address: .hostname(first.host, port: first.port), serverName: "piswarm"),
      services: others, logger: logger)
    try await main.runService()
  }

  // MARK: - Routes

  func viewer(_ request: Request) -> (session: String?, viewer: Pages.Viewer) {
    let session = request.cookies[Access.cookie]?.value
    let csrf = access.csrf(session: session)
    return (csrf == nil ? nil : session, Pages.Viewer(loggedIn: csrf != nil, readOnly: readOnly, csrf: csrf ?? ""))
  }

  public func router() -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.get("/") { request, _ -> Response in
      let started = DispatchTime.now()
      let (_, observations) = watcher.snapshot()
      let html = Pages.rack(RackView.build(cluster, observations, now: Date()), viewer: viewer(request).viewer)
      return Self.page(html, started: started)
    }
    router.get("/node/:name") { request, context -> Response in
      let started = DispatchTime.now()
      guard let name = context.parameters.get("name"), let node = cluster.nodes.first(where: { $0.name == name }) else {
        return Self.text(.notFound, "no node of that name in the cluster file\n")
      }
      let observation = watcher.snapshot().observations[name] ?? NodeView()
      let tile = RackView.tile(node, observation, now: Date())
      let html = Pages.node(
        cluster: cluster.name, tile, effects.detail(node, observation), viewer: viewer(request).viewer)
      return Self.page(html, started: started)
    }
    router.get("/events") { request, _ -> Response in
      let viewer = viewer(request).viewer
      return Response(
        status: .ok,
        headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
        body: ResponseBody { writer in
          var sent: [String: String] = [:]
          var summary = ""
          var version = -1
          var beat = Date()
          try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
          while !Task.isCancelled && !closing.isSet {
            let snapshot = watcher.snapshot()
            if snapshot.version != version {
              version = snapshot.version
              let view = RackView.build(cluster, snapshot.observations, now: Date())
              var out = ""
              for tile in view.groups.flatMap(\.tiles) {
                let html = Pages.tileHTML(tile, viewer: viewer)
                if sent[tile.name] != html {
                  sent[tile.name] = html
                  out += Self.event("tile", ["id": "tile-\(tile.name)", "html": html])
                }
              }
              let now = Pages.summary(view)
              if now != summary {
                summary = now
                out += Self.event("summary", ["html": now])
              }
              if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }
            }
            if Date().timeIntervalSince(beat) > 15 {
              beat = Date()
              try await writer.write(ByteBuffer(string: ": still here\n\n"))
            }
            try await Task.sleep(for: .milliseconds(250))
          }
          try await writer.finish(nil)
        })
    }
    router.get("/metrics") { _, _ -> Response in
      let text = Metrics.render(cluster, watcher.snapshot().observations)
      return Response(
        status: .ok, headers: [.contentType: Metrics.contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    router.get("/api/status") { _, _ -> Response in
      let data = effects.status(watcher.snapshot().observations)
      return Response(
        status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    router.get("/login") { request, _ -> Response in
      guard let code = request.uri.queryParameters["code"].map(String.init) else {
        return Self.page(Pages.login(problem: nil))
      }
      switch access.login(code: code) {
      case .success(let session): return Self.loggedIn(session)
      case .failure(let error): return Self.page(Pages.login(problem: error.description), status: .unauthorized)
      }
    }
    router.post("/login") { request, _ -> Response in
      let form = try await Self.form(request)
      guard let session = access.login(token: form["token"] ?? "") else {
        return Self.page(Pages.login(problem: "that is not the token in serve-token"), status: .unauthorized)
      }
      return Self.loggedIn(session)
    }
    router.post("/logout") { request, _ -> Response in
      let form = try await Self.form(request)
      let (session, viewer) = viewer(request)
      if viewer.loggedIn, Access.same(form["csrf"] ?? "", viewer.csrf) { access.logout(session: session) }
      return Self.redirect("/")
    }
    router.post("/action") { request, _ -> Response in
      let form = try await Self.form(request)
      let (_, viewer) = viewer(request)
      guard viewer.loggedIn else { return Self.text(.unauthorized, "log in first: actions need a session\n") }
      guard Self.sameOrigin(request), Access.same(form["csrf"] ?? "", viewer.csrf) else {
        return Self.text(.forbidden, "this form was not one this server gave you (CSRF check failed): reload the page\n")
      }
      guard !readOnly else { return Self.text(.forbidden, "serve runs --read-only: no actions\n") }
      guard let name = form["node"], let node = cluster.nodes.first(where: { $0.name == name }) else {
        return Self.text(.notFound, "no node of that name in the cluster file\n")
      }
      guard let action = form["action"], let label = Self.actions[action] else {
        return Self.text(.badRequest, "unknown action: use on, off, cycle, drain or activate\n")
      }
      guard form["confirmed"] == "yes" else {
        return Self.page(Pages.confirm(node: name, action: action, label: label, csrf: viewer.csrf))
      }
      let act = effects.act
      let outcome = await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: act(node, action)) }
      }
      watcher.refresh(after: [name])
      return Self.page(
        Pages.outcome(node: name, label: label, ok: outcome.ok, message: outcome.message),
        status: outcome.ok ? .ok : .internalServerError)
    }
    return router
  }

  // MARK: - Helpers

  static let securityHeaders: HTTPFields = [
    .contentSecurityPolicy: "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
    .cacheControl: "no-store",
  ]

  static let serverTiming = HTTPFields.Element.Name("Server-Timing") ?? .cacheControl

  static func page(_ html: String, status: HTTPResponse.Status = .ok, started: DispatchTime? = nil) -> Response {
    var headers = securityHeaders
    headers[.contentType] = "text/html; charset=utf-8"
    if let started {
      let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
      headers[Self.serverTiming] = String(format: "render;dur=%.2f", milliseconds)
    }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
  }

  static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
      status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  static func redirect(_ location: String) -> Response {
    Response(status: .seeOther, headers: [.location: location])
  }

  static func loggedIn(_ session: String) -> Response {
    var response = redirect("/")
    response.setCookie(
      Cookie(
        name: Access.cookie, value: session, maxAge: Int(Access.sessionLifetime), path: "/", httpOnly: true, sameSite: .strict))
    return response
  }

  /// An `Origin` header, when the browser sends one, names this server.
  static func sameOrigin(_ request: Request) -> Bool {
    guard let origin = request.headers[.origin] else { return true }
    guard let host = request.head.authority else { return false }
    return origin == "http://\(host)" || origin == "https://\(host)"
  }

  /// An `application/x-www-form-urlencoded` body (16 KiB at most).
  static func form(_ request: Request) async throws -> [String: String] {
    var request = request
    let body = try await request.collectBody(upTo: 16_384)
    return parseForm(String(buffer: body))
  }

  public static func parseForm(_ text: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in text.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1).map {
        String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
      }
      if let key = parts.first, fields[key] == nil { fields[key] = parts.count > 1 ? parts[1] : "" }
    }
    return fields
  }

  /// One server-sent event whose data is a JSON object of strings.
  static func event(_ name: String, _ fields: [String: String]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
    return "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
  }
}
