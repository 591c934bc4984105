import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

// Joins: managers one at a time while workers join in parallel, each join confirmed by asking the
// node where it stands when dockerd's answer was not a plain yes.
extension RunExecution {
  /// Joins: recorded as owed a rotation before any token leaves; managers one at a time while
  /// the workers join in parallel (to the managers there were when they started).
  mutating func join(_ actions: [RunAction]) {
    let started = Date()
    let blockers = Dictionary(uniqueKeysWithValues: actions.map { ($0.id, blocker($0)) })
    let runnable = actions.filter { (blockers[$0.id] ?? nil) == nil }
    var error: String?
    var tokens: SwarmInspect.Tokens?
    var managers: [String] = []
    if !runnable.isEmpty {
      do {
        try executor.memory.setRotationOwed(true)
      } catch let failure {
        error =
          "not joined: the state store cannot record that join tokens go out, so they could not be rotated for sure: \(failure)"
      }
      if error == nil {
        if let leader = leaderClient() {
          do {
            tokens = try leader.client.swarmInspect().JoinTokens
            managers =
              try leader.client.info().Swarm.RemoteManagers?.map { String($0.Addr.split(separator: ":").first ?? "") } ?? []
            if managers.isEmpty { managers = [leader.node.ip.description] }
          } catch let failure {
            error = "cannot read the join tokens: \(failure)"
          }
        } else {
          error = "no manager of the swarm answers"
        }
      }
    }
    guard let tokens, error == nil else {
      for action in actions {
        if let blocker = blockers[action.id] ?? nil {
          skip(action, blocker)
        } else {
          record(action, started, error: error ?? "no join was started")
        }
      }
      return
    }
    func role(_ action: RunAction) -> Node.Role? {
      if case .join(_, let role) = action { role } else { nil }
    }
    let workers = runnable.filter { role($0) == .worker }
    let client = executor.client
    let joinAddresses = managers
    let parallel = executor.parallel
    let joinTimeout = executor.joinTimeout
    let workerResults = Mutex<[(String?, [String])]>([])
    let workersDone = DispatchSemaphore(value: 0)
    if !workers.isEmpty { executor.progress("joining \(workers.count) worker(s)") }
    let cluster = self.cluster
    let workerThread = Thread {
      let results = FanOut.run(workers, parallel: parallel, skipped: { _ in ("interrupted before it started", []) }) {
        (action: RunAction) -> (String?, [String]) in
        guard let name = action.node, let node = cluster.node(named: name) else { return ("no such node", []) }
        var docker = client(node)
        return Self.joinOrConfirm(&docker, node, managers: joinAddresses, token: tokens.Worker, within: joinTimeout)
      }
      workerResults.withLock { $0 = results }
      workersDone.signal()
    }
    workerThread.start()
    var managerResults: [String: String?] = [:]
    var managerNotes: [String: [String]] = [:]
    for action in runnable where role(action) == .manager {
      guard let name = action.node, let node = node(name) else { continue }
      if Cancellation.isCancelled {
        managerResults[action.id] = "interrupted before it started"
        continue
      }
      executor.progress("\(name): joining as a manager")
      var docker = client(node)
      let (error, notes) = Self.joinOrConfirm(
        &docker, node, managers: managers, token: tokens.Manager, within: executor.joinTimeout)
      if error == nil { managers.append(node.ip.description) }
      managerResults[action.id] = .some(error)
      managerNotes[action.id] = notes
    }
    workersDone.wait()
    var workerOutcomes = workerResults.withLock { $0 }.makeIterator()
    for action in actions {
      if let blocker = blockers[action.id] ?? nil {
        skip(action, blocker)
      } else if role(action) == .worker, let (error, notes) = workerOutcomes.next() {
        record(action, started, error: error, notes: notes)
      } else if let error = managerResults[action.id] {
        record(action, started, error: error, notes: managerNotes[action.id] ?? [])
      }
    }
  }

  /// Joins `node` to the swarm through `managers`; the error, or nil, and notes. dockerd answers
  /// a join only once the node has its certificate, and gives up waiting after 20 s ("Timeout was
  /// reached before node joined. The attempt to join the swarm will continue in the background"):
  /// with dozens of nodes joining through a busy manager that is common, not a failure. So after
  /// any error the node is asked where it stands (`/info`), every half second while it is
  /// `pending`: `active` is joined. A node whose join then failed for good (state `error`, e.g.
  /// "failed to retrieve remote root CA certificate: context deadline exceeded", seen at 100 lab
  /// nodes) leaves what it started and joins again, up to `attempts` joins in all; all within
  /// `within` seconds.
  static func joinOrConfirm(
    _ docker: inout DockerClient, _ node: Node, managers: [String], token: String, within: Double, attempts: Int = 3
  ) -> (error: String?, notes: [String]) {
    let started = Date()
    let deadline = Deadline(in: within)
    var notes: [String] = []
    var lastError = "not tried"
    for attempt in 1...max(1, attempts) {
      do {
        try docker.negotiate()
        try docker.swarmJoin(advertiseAddress: node.ip.description, managers: managers, token: token)
        return (nil, notes)
      } catch {
        lastError = "\(error)"
        // A node already in a swarm refused this join: that is an error here (the planner joins
        // only nodes that were in none), not a join to confirm.
        if (error.cause as? DockerAPIError)?.isAlreadyInSwarm == true { break }
      }
      var state: LocalSwarm.State?
      while !Cancellation.isCancelled {
        let swarm = try? docker.info().Swarm
        state = swarm?.LocalNodeState
        if let reason = swarm?.Error, !reason.isEmpty { lastError = reason }
        guard state == .pending, !deadline.hasPassed else { break }
        usleep(500_000)
      }
      if state == .active {
        let seconds = Int(Date().timeIntervalSince(started).rounded())
        return (nil, notes + ["joined after \(seconds) s (dockerd stopped waiting before the join was done)"])
      }
      guard state == .error, attempt < attempts, !deadline.hasPassed, !Cancellation.isCancelled,
        (try? docker.leaveSwarm(force: true)) != nil
      else { break }
      notes.append("join \(attempt) ended in swarm state error (\(lastError)); it left and joined again")
    }
    return ("join failed: \(lastError)", notes)
  }
}
