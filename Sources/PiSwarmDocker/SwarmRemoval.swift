import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Taking a node out of the swarm cleanly: drain, wait for its tasks to move, demote a manager
/// first, leave on the node, remove it from the swarm.
public struct SwarmRemoval: Sendable {
  public let manager: DockerClient
  public let progress: @Sendable (String) -> Void

  public init(manager: DockerClient, progress: @escaping @Sendable (String) -> Void = { _ in }) {
    self.manager = manager
    self.progress = progress
  }

  /// The swarm's entry for a node with this address (the ready one when it rejoined).
  public func find(_ node: Node) throws(PiSwarmError) -> SwarmNode {
    let candidates = try manager.nodes().filter { $0.Status.Addr == node.ip.description }
    guard let found = candidates.first(where: { $0.Status.State == .ready }) ?? candidates.first else {
      throw PiSwarmError(
        .notFound, "\(node.name) (\(node.ip)) is not in the swarm", advice: "'piswarm status' shows the swarm's nodes")
    }
    return found
  }

  /// Sets availability to drain and waits until no task runs on the node.
  public func drain(_ node: Node, timeout: Double) throws(PiSwarmError) {
    let entry = try find(node)
    try manager.updateNode(entry.ID) { $0.Availability = .drain }
    progress("\(node.name): drained; waiting for its tasks to move")
    let deadline = Deadline(in: timeout)
    while true {
      let left = try manager.runningTasks(on: entry.ID)
      if left.isEmpty { return }
      if deadline.hasPassed {
        throw PiSwarmError(
          .system, "\(node.name) still runs \(left.count) task(s) after \(Int(timeout)) s",
          advice: "look at 'docker service ps' on a manager; a longer --wait may help")
      }
      usleep(250_000)
    }
  }

  /// Drains, demotes a manager, makes the node leave (through its own dockerd when reachable),
  /// and removes it from the swarm.
  public func remove(_ node: Node, client: DockerClient?, timeout: Double) throws(PiSwarmError) {
    let entry = try find(node)
    try drain(node, timeout: timeout)
    if entry.Spec.Role == .manager {
      let managers = try manager.nodes().filter { $0.Spec.Role == .manager && $0.Status.State == .ready }
      guard managers.count > 1 else {
        throw PiSwarmError(.invalidInput, "\(node.name) is the only manager; removing it would end the swarm")
      }
      try manager.updateNode(entry.ID) { $0.Role = .worker }
      progress("\(node.name): demoted to worker")
      if managers.count - 1 == 2 {
        progress("warning: 2 managers remain; losing either stops the swarm's management (3 survive one failure)")
      }
    }
    if let client {
      // A demoted manager leaves raft a moment later; until then it may not leave as a worker.
      let settled = Deadline(in: 15)
      while (try? client.info().Swarm.ControlAvailable) == true && !settled.hasPassed { usleep(200_000) }
      do {
        try client.leaveSwarm(force: false)
        progress("\(node.name): left the swarm")
      } catch {
        do {
          try client.leaveSwarm(force: true)
          progress("\(node.name): left the swarm (forced: \(error.causeText ?? error.message))")
        } catch {
          progress("\(node.name): could not leave by itself (\(error.message)); removing it from the swarm by force")
        }
      }
    }
    // A node that left shows as down after a moment; only then may it be removed without force.
    let deadline = Deadline(in: 15)
    while true {
      do {
        try manager.removeNode(entry.ID, force: deadline.hasPassed)
        break
      } catch  where !deadline.extended(by: 1).hasPassed {
        usleep(300_000)
      }
    }
    progress("\(node.name): removed from the swarm")
  }
}
