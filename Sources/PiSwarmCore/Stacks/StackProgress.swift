/// Whether a stack's services converged after a deploy, from what the swarm reports. Pure.
///
/// A service converged when as many of its tasks run as it wants (a task with a health check
/// counts as running only once healthy: swarm holds it in `starting` until then) and no update
/// of it is under way. It failed when its update was paused or rolled back, or when one of its
/// slots (a replica, or a node of a global service) failed twice since the deploy began: swarm
/// would go on restarting it, so piswarm stops waiting and shows the task's error.
public enum StackProgress {
  /// One service, as the swarm reports it.
  public struct Service: Sendable, Equatable {
    /// Its name without the stack's prefix.
    public var name: String
    public var global: Bool
    public var running: Int
    public var desired: Int
    /// The service's update state (`updating`, `paused`, `rollback_completed`, …), if any.
    public var update: String?
    public var updateMessage: String?

    public init(
      name: String, global: Bool = false, running: Int, desired: Int, update: String? = nil, updateMessage: String? = nil
    ) {
      self.name = name
      self.global = global
      self.running = running
      self.desired = desired
      self.update = update
      self.updateMessage = updateMessage
    }
  }

  /// One of its tasks that started since the deploy began.
  public struct Task: Sendable, Equatable {
    /// The replica number, or for a global service the node's ID.
    public var slot: String
    public var state: SwarmTaskState
    public var error: String?

    public init(slot: String, state: SwarmTaskState, error: String? = nil) {
      self.slot = slot
      self.state = state
      self.error = error
    }
  }

  public enum State: Sendable, Equatable {
    case converging(String)
    case converged
    case failed(String)

    public var isDone: Bool { if case .converging = self { false } else { true } }
  }

  /// How many failures of one slot make the service failed.
  public static let failuresPerSlot = 2

  /// How long a global service that wants no task yet is given to get its tasks: swarm counts
  /// a global service's desired tasks only once its orchestrator made them.
  public static let globalGrace = 5.0

  /// `waited`: seconds since the deploy began.
  public static func state(_ service: Service, tasks: [Task], waited: Double) -> State {
    // Swarm stops counting a global service's node whose task failed until it makes the next
    // one: such a slot still wants a task.
    var last: [String: Task] = [:]
    for task in tasks { last[task.slot] = task }
    let ended: Set<SwarmTaskState> = [.shutdown, .complete, .remove, .orphaned]
    let wanting = last.values.filter { !ended.contains($0.state) }.count
    var service = service
    service.desired = max(service.desired, wanting)
    let counts = "\(service.running)/\(service.desired) running"
    switch service.update {
    case "paused", "rollback_started", "rollback_paused", "rollback_completed":
      return .failed("update \(service.update ?? ""): \(service.updateMessage ?? "no message")")
    default: break
    }
    let failures = tasks.filter { $0.state == .failed || $0.state == .rejected }
    let bySlot = Dictionary(grouping: failures, by: \.slot)
    if let (_, failed) = bySlot.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count >= failuresPerSlot }),
      service.running < service.desired
    {
      let error = failed.last?.error ?? "no error given"
      return .failed("\(counts); a task \(failed.last?.state.rawValue ?? "failed") \(failed.count) times: \(error)")
    }
    if service.global, service.desired == 0, tasks.isEmpty, waited < globalGrace { return .converging(counts) }
    // More running than wanted: tasks of a drained node or of a smaller scale still stopping.
    if service.running >= service.desired && service.update != "updating" { return .converged }
    // What keeps it: the newest word a task has (no suitable node, pulling, …).
    if let waiting = tasks.last(where: { $0.state != .running && $0.error != nil })?.error {
      return .converging("\(counts): \(waiting)")
    }
    return .converging(counts)
  }
}
