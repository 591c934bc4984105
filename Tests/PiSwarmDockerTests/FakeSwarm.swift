import Foundation
import PiSwarmCore
import PiSwarmDocker
import Synchronization

/// An in-process swarm of fake dockerds for `RunObserver` and `RunExecutor`: each node's engine answers the
/// Engine API calls piswarm makes, from one shared swarm state, and every request is recorded.
/// Engines are keyed by their address. Tokens and the unlock key are plain strings the tests
/// can look for in output.
final class FakeSwarm: Sendable {
  struct Engine {
    var ip: String
    /// inactive, active or locked.
    var state = "inactive"
    /// Its ID in the swarm, when it is in one.
    var nodeID: String?
    /// What it reports about itself instead (a node that lies).
    var claimedID: String?
    /// A manager of another swarm: the cluster ID it reports.
    var foreignCluster: String?
    /// Its dockerd does not answer.
    var down = false
    /// Why its swarm part stopped (state "error").
    var error: String?
  }

  struct Entry {
    var id: String
    var addr: String
    var role: String
    var state = "ready"
    var labels: [String: String] = [:]
    var version = 1
  }

  struct Request {
    var ip: String
    var method: String
    var path: String
    var body: String
  }

  struct State {
    var engines: [String: Engine] = [:]
    var entries: [Entry] = []
    var clusterID: String?
    var version = 10
    var rotations = 0
    var workerToken = "SWMTKN-1-fakeworkertoken-0"
    var managerToken = "SWMTKN-1-fakemanagertoken-0"
    var autolock = false
    var unlockKey: String?
    var keys = 0
    /// Addresses whose joins fail (the manager cannot be reached from there).
    var failJoins: Set<String> = []
    /// Addresses whose joins go on after dockerd stopped waiting: the node joins, the answer is
    /// dockerd's 20 s timeout.
    var backgroundJoins: Set<String> = []
    /// Addresses whose next join ends in state "error" (no certificate in time), after dockerd's
    /// 20 s timeout; the join after a leave works.
    var brokenJoins: Set<String> = []
    var requests: [Request] = []
    var nextID = 1
    /// The address of the raft leader.
    var leader: String?
  }

  let state: Mutex<State>
  /// Called when a join request arrives, before it is answered.
  let onJoin: @Sendable (String) -> Void

  init(_ ips: [String], onJoin: @escaping @Sendable (String) -> Void = { _ in }) {
    var initial = State()
    for ip in ips { initial.engines[ip] = Engine(ip: ip) }
    state = Mutex(initial)
    self.onJoin = onJoin
  }

  /// A swarm already formed: `managers` and `workers` in it (by address), the first manager
  /// initialized it.
  func form(managers: [String], workers: [String]) {
    state.withLock { state in
      state.clusterID = "CLUSTER1"
      for ip in managers { Self.add(&state, ip, role: "manager") }
      for ip in workers { Self.add(&state, ip, role: "worker") }
    }
  }

  /// Every token ever handed out and every unlock key ever made, to look for in output.
  var secrets: [String] {
    state.withLock { state in
      (0...state.rotations).flatMap { ["SWMTKN-1-fakeworkertoken-\($0)", "SWMTKN-1-fakemanagertoken-\($0)"] }
        + (0..<max(state.keys, 1)).map { "SWMKEY-1-fakeunlockkey-\($0)" }
    }
  }

  func requests(to ip: String) -> [String] {
    state.withLock { $0.requests.filter { $0.ip == ip }.map { "\($0.method) \($0.path)" } }
  }

  /// What Docker's setup probe prints of `ip`'s `/info` (curl on the node, not a request to the
  /// Engine API): the body of the answer, or nil when its dockerd does not answer.
  func infoAsProbed(_ ip: String) -> String? {
    state.withLock { state in
      guard let engine = state.engines[ip], !engine.down else { return nil }
      let answer = String(decoding: Self.answer(&state, ip, "GET", "/info", [:], [:]), as: UTF8.self)
      return answer.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }
  }

  func entry(_ id: String) -> Entry? { state.withLock { $0.entries.first { $0.id == id } } }

  func engine(_ ip: String) -> Engine? { state.withLock { $0.engines[ip] } }

  /// A manager restarts with autolock on: locked, and down in the swarm's list.
  func lock(_ ip: String) {
    state.withLock { state in
      state.engines[ip]?.state = "locked"
      if let id = state.engines[ip]?.nodeID, let index = state.entries.firstIndex(where: { $0.id == id }) {
        state.entries[index].state = "down"
      }
    }
  }

  func client(_ node: Node) -> DockerClient { DockerClient(transport: FakeEngine(swarm: self, ip: node.ip.description)) }

  static func add(_ state: inout State, _ ip: String, role: String) {
    let id = "NODEID\(state.nextID)"
    state.nextID += 1
    state.engines[ip, default: Engine(ip: ip)].state = "active"
    state.engines[ip]?.nodeID = id
    state.entries.append(Entry(id: id, addr: ip, role: role))
  }

  // MARK: - the Engine API

  func handle(_ ip: String, _ request: HTTP.Request) throws(PiSwarmError) -> Data {
    let body = request.body.map { String(decoding: $0, as: UTF8.self) } ?? ""
    state.withLock { $0.requests.append(Request(ip: ip, method: request.method, path: request.path, body: body)) }
    if request.path == "/_ping" { return Self.response(200, "OK") }
    var path = request.path
    if path.hasPrefix("/v1.41") { path.removeFirst(6) }
    let parts = path.split(separator: "?", maxSplits: 1)
    let route = String(parts.first ?? "")
    let query = Dictionary(
      (parts.count > 1 ? parts[1].split(separator: "&") : []).map {
        let pair = $0.split(separator: "=", maxSplits: 1)
        return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
      }, uniquingKeysWith: { $1 })
    let json = (request.body.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]) ?? [:]
    if request.method == "POST" && route == "/swarm/join" { onJoin(ip) }
    return state.withLock { state in Self.answer(&state, ip, request.method, route, query, json) }
  }

  static func answer(
    _ state: inout State, _ ip: String, _ method: String, _ route: String, _ query: [String: String], _ json: [String: Any]
  ) -> Data {
    guard let engine = state.engines[ip], !engine.down else { return response(500, ["message": "no such engine"]) }
    if let foreign = engine.foreignCluster, method == "GET", route == "/info" {
      return response(
        200,
        [
          "ID": "E-\(ip)", "Name": "n-\(ip)", "ServerVersion": "24.0.0", "Driver": "overlay2",
          "Swarm": [
            "LocalNodeState": "active", "NodeID": "FOREIGN\(ip.filter(\.isNumber))", "NodeAddr": ip, "ControlAvailable": true,
            "Cluster": ["ID": foreign],
          ],
        ])
    }
    let entry = state.entries.first { $0.id == engine.nodeID }
    let isManager = engine.state == "active" && entry?.role == "manager"
    let notManager = response(503, ["message": "This node is not a swarm manager."])
    switch (method, route) {
    case ("GET", "/info"):
      var swarm: [String: Any] = [
        "LocalNodeState": engine.state, "NodeID": engine.claimedID ?? engine.nodeID ?? "", "NodeAddr": ip,
        "ControlAvailable": isManager, "Error": engine.error ?? "",
      ]
      if engine.state == "active", let id = state.clusterID {
        swarm["Cluster"] = ["ID": id]
        swarm["RemoteManagers"] = state.entries.filter { $0.role == "manager" }.map {
          ["NodeID": $0.id, "Addr": "\($0.addr):2377"]
        }
      }
      return response(
        200, ["ID": "E-\(ip)", "Name": "n-\(ip)", "ServerVersion": "24.0.0", "Driver": "overlay2", "Swarm": swarm])
    case ("POST", "/swarm/leave"):
      guard engine.state != "inactive" else { return response(503, ["message": "This node is not part of a swarm"]) }
      state.engines[ip]?.state = "inactive"
      state.engines[ip]?.error = nil
      state.engines[ip]?.nodeID = nil
      return response(200, "")
    case ("GET", "/swarm"):
      guard isManager, let id = state.clusterID else { return notManager }
      return response(
        200,
        [
          "ID": id, "Version": ["Index": state.version],
          "Spec": ["Name": "default", "EncryptionConfig": ["AutoLockManagers": state.autolock]],
          "JoinTokens": ["Worker": state.workerToken, "Manager": state.managerToken],
        ])
    case ("POST", "/swarm/init"):
      guard engine.state == "inactive" else { return response(503, ["message": "This node is already part of a swarm."]) }
      state.clusterID = "CLUSTER1"
      add(&state, ip, role: "manager")
      return response(200, state.engines[ip]?.nodeID ?? "")
    case ("POST", "/swarm/join"):
      guard engine.state == "inactive" else { return response(503, ["message": "This node is already part of a swarm."]) }
      if state.failJoins.contains(ip) { return response(500, ["message": "timeout was reached before node joined"]) }
      if state.brokenJoins.remove(ip) != nil {
        state.engines[ip]?.state = "error"
        state.engines[ip]?.error = "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
        return response(503, ["message": "Timeout was reached before node joined."])
      }
      let token = json["JoinToken"] as? String
      guard token == state.workerToken || token == state.managerToken else {
        return response(400, ["message": "invalid join token"])
      }
      add(&state, ip, role: token == state.managerToken ? "manager" : "worker")
      if state.backgroundJoins.contains(ip) {
        return response(
          500,
          [
            "message":
              "Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the \"docker info\" command to see the current swarm status of your node."
          ])
      }
      return response(200, "")
    case ("POST", "/swarm/update"):
      guard isManager else { return notManager }
      guard query["version"] == "\(state.version)" else { return response(500, ["message": "update out of sequence"]) }
      state.version += 1
      if query["rotateWorkerToken"] == "true" || query["rotateManagerToken"] == "true" {
        state.rotations += 1
        state.workerToken = "SWMTKN-1-fakeworkertoken-\(state.rotations)"
        state.managerToken = "SWMTKN-1-fakemanagertoken-\(state.rotations)"
      }
      let spec = json["Spec"] as? [String: Any] ?? json
      let autolock = (spec["EncryptionConfig"] as? [String: Any])?["AutoLockManagers"] as? Bool ?? false
      if autolock && !state.autolock {
        state.unlockKey = "SWMKEY-1-fakeunlockkey-\(state.keys)"
        state.keys += 1
      } else if !autolock {
        state.unlockKey = nil
      }
      state.autolock = autolock
      return response(200, "")
    case ("GET", "/swarm/unlockkey"):
      guard isManager else { return notManager }
      return response(200, ["UnlockKey": state.unlockKey ?? ""])
    case ("POST", "/swarm/unlock"):
      guard engine.state == "locked" else { return response(503, ["message": "swarm is not locked"]) }
      guard let key = json["UnlockKey"] as? String, key == state.unlockKey else {
        return response(400, ["message": "invalid key"])
      }
      state.engines[ip]?.state = "active"
      if let index = state.entries.firstIndex(where: { $0.id == engine.nodeID }) { state.entries[index].state = "ready" }
      return response(200, "")
    case ("GET", "/nodes"):
      guard isManager else { return notManager }
      let leader = state.leader
      return response(200, state.entries.map { nodeJSON($0, leader: $0.addr == leader) })
    case ("DELETE", _) where route.hasPrefix("/nodes/"):
      guard isManager else { return notManager }
      state.entries.removeAll { $0.id == route.dropFirst(7) }
      return response(200, "")
    case ("GET", _) where route.hasPrefix("/nodes/"):
      guard isManager else { return notManager }
      guard let found = state.entries.first(where: { $0.id == route.dropFirst(7) }) else {
        return response(404, ["message": "node not found"])
      }
      return response(200, nodeJSON(found, leader: found.addr == state.leader))
    case ("POST", _) where route.hasPrefix("/nodes/") && route.hasSuffix("/update"):
      guard isManager else { return notManager }
      let id = route.dropFirst(7).dropLast(7)
      guard let index = state.entries.firstIndex(where: { $0.id == id }) else {
        return response(404, ["message": "node not found"])
      }
      guard query["version"] == "\(state.entries[index].version)" else {
        return response(500, ["message": "update out of sequence"])
      }
      state.entries[index].version += 1
      state.entries[index].role = json["Role"] as? String ?? state.entries[index].role
      state.entries[index].labels = json["Labels"] as? [String: String] ?? [:]
      return response(200, "")
    default:
      return response(404, ["message": "page not found"])
    }
  }

  static func nodeJSON(_ entry: Entry, leader: Bool) -> [String: Any] {
    var node: [String: Any] = [
      "ID": entry.id, "Version": ["Index": entry.version],
      "Spec": ["Labels": entry.labels, "Role": entry.role, "Availability": "active"],
      "Description": ["Hostname": "n-\(entry.addr)"], "Status": ["State": entry.state, "Addr": entry.addr],
    ]
    if entry.role == "manager" {
      node["ManagerStatus"] = ["Leader": leader, "Reachability": "reachable", "Addr": "\(entry.addr):2377"]
    }
    return node
  }

  static func response(_ status: Int, _ body: Any) -> Data {
    let bytes: Data
    if let text = body as? String {
      bytes = text.isEmpty ? Data() : (try? JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed)) ?? Data()
    } else {
      bytes = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
    }
    let head = "HTTP/1.1 \(status) X\r\nApi-Version: 1.41\r\nContent-Length: \(bytes.count)\r\n\r\n"
    return Data(head.utf8) + bytes
  }
}

/// One fake node's dockerd.
struct FakeEngine: DockerTransport {
  let swarm: FakeSwarm
  let ip: String
  var endpoint: String { ip }
  func exchange(_ request: HTTP.Request) throws(PiSwarmError) -> Data { try swarm.handle(ip, request) }
}
