import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem

/// What `piswarm power` does for one node: a driver's verb, with the parts that are not a
/// driver's: `off` asks the node to shut down over SSH first and waits until it is down;
/// `on` and `cycle` wait until it has booted.
public struct PowerControl: Sendable {
  public var context: PowerContext
  public var transport: SSHTransport
  public var settings: PowerSettings
  public var waiter: BootWaiter
  public var progress: @Sendable (Node, String) -> Void
  /// Seconds to let a node finish halting after its SSH went away, when its driver cannot tell.
  public var settle: Double = 5

  public init(
    context: PowerContext, transport: SSHTransport, settings: PowerSettings, waiter: BootWaiter,
    progress: @escaping @Sendable (Node, String) -> Void
  ) {
    self.context = context
    self.transport = transport
    self.settings = settings
    self.waiter = waiter
    self.progress = progress
  }

  /// How one node's power action went.
  public struct Outcome: Sendable, Equatable {
    public var state: PowerState?
    public var error: String?
    public var notes: [String] = []
  }

  public func driver(_ verb: PowerVerb, _ node: Node) -> Result<PowerState, PiSwarmError> {
    PowerDrivers.run(verb, node: node, context: context)
  }

  public func status(_ node: Node) -> Outcome {
    if node.power.driver == PowerConfig.none.driver { return uncontrolled(node) }
    switch driver(.status, node) {
    case .success(let state): return Outcome(state: state)
    case .failure(let error): return Outcome(state: nil, error: error.description)
    }
  }

  /// Switches on (or cycles) and, with `wait`, waits until the node has booted.
  public func on(_ node: Node, cycle: Bool = false, wait: Bool) -> Outcome {
    if node.power.driver == PowerConfig.none.driver { return uncontrolled(node) }
    let started = Date()
    progress(node, cycle ? "power-cycling (\(node.power.driver))" : "switching on (\(node.power.driver))")
    switch driver(cycle ? .cycle : .on, node) {
    case .failure(let error): return Outcome(state: nil, error: error.description)
    case .success(let state):
      guard wait else { return Outcome(state: state) }
      let (error, notes) = waiter.wait(node, poweredOn: started)
      return Outcome(state: state, error: error, notes: notes)
    }
  }

  /// Shuts the node down over SSH (unless `hard`), waits until it is down (bounded by
  /// `power.shutdown_timeout`), then cuts its power.
  public func off(_ node: Node, hard: Bool) -> Outcome {
    if node.power.driver == PowerConfig.none.driver { return uncontrolled(node) }
    var notes: [String] = []
    if !hard { notes += shutDown(node) }
    progress(node, "cutting power (\(node.power.driver))")
    switch driver(.off, node) {
    case .failure(let error): return Outcome(state: nil, error: error.description, notes: notes)
    case .success(let state): return Outcome(state: state, notes: notes)
    }
  }

  func uncontrolled(_ node: Node) -> Outcome {
    Outcome(
      state: .uncontrolled,
      error: "\(node.name) has power: none: piswarm cannot switch it; give it a power driver in cluster.yml (see docs/power.md)")
  }

  /// The graceful part of `off`; notes on how it went.
  func shutDown(_ node: Node) -> [String] {
    guard waiter.sshUp(node) else { return ["SSH did not answer: power cut without a shutdown"] }
    progress(node, "asking it to shut down over SSH")
    let started = Date()
    let result = transport.run(node, RemoteScript.shutdown.command())
    // The session may end with the node (sshd goes away under it): only a refusal counts.
    if result.outcome == .failed {
      return ["the shutdown command failed (\(result.message ?? "")): power cut anyway"]
    }
    let deadline = Deadline(in: settings.shutdownTimeout)
    progress(node, "shutting down: waiting for SSH to go away (at most \(Int(settings.shutdownTimeout)) s)")
    while waiter.sshUp(node) {
      if deadline.hasPassed || Cancellation.isCancelled {
        return ["still up \(Int(settings.shutdownTimeout)) s after it was asked to shut down: power cut anyway"]
      }
      usleep(500_000)
    }
    // SSH is gone; the rest of the system follows. A driver that can tell says when it is off.
    let settled = Deadline(in: settle)
    while !settled.hasPassed, !Cancellation.isCancelled {
      if case .success(let state) = driver(.status, node), state == .off { break }
      usleep(500_000)
    }
    return [String(format: "shut down over SSH in %.1f s", Date().timeIntervalSince(started))]
  }
}
