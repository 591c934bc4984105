import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A Docker Engine API client: one small method per endpoint, the API version negotiated via
/// `/_ping`, errors that keep the daemon's own message.
public struct DockerClient: Sendable {
  public static let newestKnownVersion = (1, 51)
  public static let oldestVersion = (1, 40)

  public let transport: any DockerTransport
  /// Negotiated API version, e.g. "1.41"; nil until `negotiate()`.
  public private(set) var version: String?

  public init(transport: any DockerTransport) {
    self.transport = transport
  }

  /// `GET /_ping`: takes the daemon's API version, capped at the newest piswarm knows.
  public mutating func negotiate() throws(PiSwarmError) {
    let response = try send(HTTP.Request("GET", "/_ping"), versioned: false)
    guard response.status == 200, let announced = response.headers["api-version"] else {
      throw PiSwarmError(.system, "\(transport.endpoint): dockerd did not answer /_ping (HTTP \(response.status))")
    }
    version = Self.negotiated(announced)
  }

  public static func negotiated(_ announced: String) -> String {
    let parts = announced.split(separator: ".").compactMap { Int($0) }
    guard parts.count == 2 else { return "\(oldestVersion.0).\(oldestVersion.1)" }
    if (parts[0], parts[1]) > newestKnownVersion { return "\(newestKnownVersion.0).\(newestKnownVersion.1)" }
    return announced
  }

  public func info() throws(PiSwarmError) -> EngineInfo { try decode(try call("GET", "/info")) }

  public func swarmInspect() throws(PiSwarmError) -> SwarmInspect { try decode(try call("GET", "/swarm")) }

  /// Returns the new node ID.
  public func swarmInit(advertiseAddress: String) throws(PiSwarmError) -> String {
    let body: JSONValue = .object([
      "ListenAddr": .string("0.0.0.0:2377"), "AdvertiseAddr": .string("\(advertiseAddress):2377"),
      "ForceNewCluster": .bool(false),
    ])
    return try decode(try call("POST", "/swarm/init", body: body))
  }

  public func swarmJoin(advertiseAddress: String, managers: [String], token: String) throws(PiSwarmError) {
    let body: JSONValue = .object([
      "ListenAddr": .string("0.0.0.0:2377"), "AdvertiseAddr": .string("\(advertiseAddress):2377"),
      "RemoteAddrs": .array(managers.map { .string("\($0):2377") }), "JoinToken": .string(token),
    ])
    _ = try call("POST", "/swarm/join", body: body)
  }

  /// Rotates both join tokens (read, modify, write with the swarm's version).
  public func rotateJoinTokens() throws(PiSwarmError) {
    let swarm = try swarmInspect()
    _ = try call(
      "POST", "/swarm/update?version=\(swarm.Version.Index)&rotateWorkerToken=true&rotateManagerToken=true", body: swarm.Spec)
  }

  /// Turns the managers' autolock on or off (read, modify, write with the swarm's version). On,
  /// a manager whose dockerd restarts stays locked until it is given the unlock key.
  public func setAutolock(_ on: Bool) throws(PiSwarmError) {
    let swarm = try swarmInspect()
    var spec = swarm.Spec
    var encryption = spec["EncryptionConfig"] ?? .object([:])
    if case .object = encryption {} else { encryption = .object([:]) }
    encryption["AutoLockManagers"] = .bool(on)
    spec["EncryptionConfig"] = encryption
    _ = try call("POST", "/swarm/update?version=\(swarm.Version.Index)", body: spec)
  }

  /// `GET /swarm/unlockkey`: the managers' unlock key, empty when autolock is off. A secret:
  /// never print or log it.
  public func unlockKey() throws(PiSwarmError) -> String {
    let answer: UnlockKeyBody = try decode(try call("GET", "/swarm/unlockkey"))
    return answer.UnlockKey
  }

  /// `POST /swarm/unlock`: unlocks this (locked) manager with the swarm's unlock key.
  public func unlock(key: String) throws(PiSwarmError) {
    _ = try call("POST", "/swarm/unlock", body: .object(["UnlockKey": .string(key)]))
  }

  public func nodes() throws(PiSwarmError) -> [SwarmNode] { try decode(try call("GET", "/nodes")) }

  public func inspectNode(_ id: String) throws(PiSwarmError) -> SwarmNode { try decode(try call("GET", "/nodes/\(id)")) }

  /// Read, modify, write: applies `change` to the node's spec and writes it with the version it
  /// was read at, reading again when the node changed in between ("update out of sequence",
  /// as when a node that just joined turns ready).
  public func updateNode(_ id: String, attempts: Int = 6, _ change: (inout SwarmNode.NodeSpec) -> Void) throws(PiSwarmError) {
    var attempt = 0
    while true {
      attempt += 1
      let node = try inspectNode(id)
      var spec = node.Spec
      change(&spec)
      if spec == node.Spec { return }
      do {
        try updateNode(node, spec: spec)
        return
      } catch  where attempt < attempts && (error.cause as? DockerAPIError)?.isOutOfSequence == true {
        usleep(useconds_t(50_000 * attempt))
      }
    }
  }

  /// Writes a node's whole spec back with the version it was read at.
  public func updateNode(_ node: SwarmNode, spec: SwarmNode.NodeSpec) throws(PiSwarmError) {
    let encoded = try encode(spec)
    _ = try call("POST", "/nodes/\(node.ID)/update?version=\(node.Version.Index)", raw: encoded)
  }

  /// Tasks the swarm wants running (`desired-state=running`).
  public func runningTasks() throws(PiSwarmError) -> [SwarmTask] {
    try decode(try call("GET", "/tasks?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D"))
  }

  /// Running tasks on one node.
  public func runningTasks(on nodeID: String) throws(PiSwarmError) -> [SwarmTask] {
    try runningTasks().filter { $0.NodeID == nodeID && $0.Status.State == .running }
  }

  /// `GET /services?status=true`, only those with `label` (`KEY=VALUE` or `KEY`) when given:
  /// each with its running and desired task counts.
  public func services(label: String? = nil) throws(PiSwarmError) -> [SwarmService] {
    var path = "/services?status=true"
    if let label { path += "&filters=" + Self.filters(["label": [label]]) }
    return try decode(try call("GET", path))
  }

  /// Read, modify, write of a service's whole spec (`GET /services/{id}`, then `POST
  /// /services/{id}/update?version=N`), reading again when it changed in between. The spec is
  /// kept as JSON so that every field piswarm does not model goes back as it came; `change`
  /// returns false to write nothing.
  public func updateService(_ id: String, attempts: Int = 6, _ change: (inout JSONValue) -> Bool) throws(PiSwarmError) {
    var attempt = 0
    while true {
      attempt += 1
      let service: JSONValue = try decode(try call("GET", "/services/\(id)"))
      guard case .number(let index)? = service["Version"]?["Index"], var spec = service["Spec"] else {
        throw PiSwarmError(.system, "\(transport.endpoint): service \(id) has no version or spec in dockerd's answer")
      }
      guard change(&spec) else { return }
      do {
        _ = try call("POST", "/services/\(id)/update?version=\(Int(index))", raw: try encode(spec))
        return
      } catch  where attempt < attempts && (error.cause as? DockerAPIError)?.isOutOfSequence == true {
        usleep(useconds_t(50_000 * attempt))
      }
    }
  }

  /// Sets a replicated service's replicas to `to` if it has `from` now (someone else's scaling
  /// in between is left alone); true when it was changed.
  @discardableResult
  public func scaleService(_ id: String, from: Int, to: Int) throws(PiSwarmError) -> Bool {
    var changed = false
    try updateService(id) { spec in
      guard case .number(let replicas)? = spec["Mode"]?["Replicated"]?["Replicas"], Int(replicas) == from else { return false }
      spec["Mode"]?["Replicated"]?["Replicas"] = .number(Double(to))
      changed = true
      return true
    }
    return changed
  }

  /// `GET /tasks` of the given services (all their tasks, old ones too).
  public func tasks(services: [String]) throws(PiSwarmError) -> [SwarmTask] {
    guard !services.isEmpty else { return [] }
    return try decode(try call("GET", "/tasks?filters=" + Self.filters(["service": services])))
  }

  /// `GET /networks`, only those with `label` (`KEY=VALUE` or `KEY`): their names.
  public func networkNames(label: String) throws(PiSwarmError) -> [String] {
    struct Network: Decodable {
      // swift-format-ignore: AlwaysUseLowerCamelCase
      var Name: String
    }
    let networks: [Network] = try decode(try call("GET", "/networks?filters=" + Self.filters(["label": [label]])))
    return networks.map(\.Name)
  }

  /// A `filters` query value: the JSON object, percent-encoded.
  static func filters(_ filters: [String: [String]]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let json = (try? encoder.encode(filters)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return json.addingPercentEncoding(withAllowedCharacters: allowed) ?? json
  }

  public func removeNode(_ id: String, force: Bool = false) throws(PiSwarmError) {
    _ = try call("DELETE", "/nodes/\(id)\(force ? "?force=true" : "")")
  }

  public func leaveSwarm(force: Bool) throws(PiSwarmError) {
    _ = try call("POST", "/swarm/leave\(force ? "?force=true" : "")")
  }

  // MARK: - plumbing

  func call(_ method: String, _ path: String, body: JSONValue? = nil) throws(PiSwarmError) -> Data {
    var raw: Data?
    if let body { raw = try encode(body) }
    return try call(method, path, raw: raw)
  }

  func call(_ method: String, _ path: String, raw: Data?) throws(PiSwarmError) -> Data {
    let response = try send(HTTP.Request(method, path, body: raw), versioned: true)
    guard (200..<300).contains(response.status) else {
      let message =
        (try? JSONDecoder().decode(EngineErrorBody.self, from: response.body).message)
        ?? String(decoding: response.body, as: UTF8.self)
      // A request path never holds a secret; bodies (join tokens) are never part of a message.
      throw PiSwarmError(
        .system, "\(transport.endpoint): \(method) \(path.split(separator: "?").first ?? "") failed with HTTP \(response.status)",
        cause: DockerAPIError(status: response.status, message: message.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    return response.body
  }

  func send(_ request: HTTP.Request, versioned: Bool) throws(PiSwarmError) -> HTTP.Response {
    var request = request
    if versioned { request.path = "/v\(version ?? "1.41")" + request.path }
    let data = try transport.exchange(request)
    guard let response = HTTP.parse(data) else {
      throw PiSwarmError(
        .system, "\(transport.endpoint): no HTTP answer from dockerd (\(data.count) bytes)", advice: "is dockerd running there?")
    }
    return response
  }

  func decode<T: Decodable>(_ data: Data) throws(PiSwarmError) -> T {
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
      throw PiSwarmError(.system, "\(transport.endpoint): unexpected answer from dockerd", cause: "\(error)")
    }
  }

  func encode<T: Encodable>(_ value: T) throws(PiSwarmError) -> Data {
    do { return try JSONEncoder().encode(value) } catch {
      throw PiSwarmError(.system, "cannot encode a request", cause: "\(error)")
    }
  }
}
