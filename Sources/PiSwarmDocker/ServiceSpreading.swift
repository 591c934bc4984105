import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Before a drain: each replicated service whose every running task is on the node gets one
/// more replica, started by the scheduler on another node (its spread puts it on the emptier
/// one), and once that task runs the service is scaled back, which removes a task from the node
/// with the most copies (the swarm's orchestrator prefers it): the service never has fewer
/// running tasks than before, and the drain then stops only tasks that have company elsewhere.
public struct ServiceSpreading: Sendable {
  public let manager: DockerClient
  public let progress: @Sendable (String) -> Void

  public init(manager: DockerClient, progress: @escaping @Sendable (String) -> Void = { _ in }) {
    self.manager = manager
    self.progress = progress
  }

  /// What a drain of `node` (its swarm entry) would stop whole (`ServiceSpread.needs`).
  public func needs(draining node: SwarmNode) throws(PiSwarmError) -> [ServiceSpread.Need] {
    let services = try manager.services().map { service in
      ServiceSpread.Service(
        id: service.ID, name: service.Spec.Name, replicas: service.Spec.Mode?.Replicated.map { $0.Replicas ?? 1 },
        constraints: service.Spec.TaskTemplate?.Placement?.Constraints ?? [])
    }
    let tasks = try manager.runningTasks().compactMap { task -> ServiceSpread.Task? in
      guard task.Status.State == .running, let service = task.ServiceID, let node = task.NodeID else { return nil }
      return ServiceSpread.Task(service: service, node: node)
    }
    let members = try manager.nodes().map(Self.member)
    return ServiceSpread.needs(draining: node.ID, services: services, tasks: tasks, members: members)
  }

  static func member(_ node: SwarmNode) -> ServiceSpread.Member {
    ServiceSpread.Member(
      id: node.ID, hostname: node.Description?.Hostname ?? node.ID, role: node.Spec.Role,
      takesTasks: node.Status.State == .ready && node.Spec.Availability == .active, labels: node.Spec.Labels ?? [:],
      engineLabels: node.Description?.Engine?.Labels ?? [:], os: node.Description?.Platform?.OS ?? "",
      architecture: node.Description?.Platform?.Architecture ?? "")
  }

  /// Spreads the `.spread` services off `node` (a swarm node ID): one more replica each, a wait
  /// until a task of each runs on another node, each scaled back as soon as it does. On a
  /// timeout or an interruption every service still scaled up is scaled back before the error.
  /// Returns one line a service: where its task started and how long it took.
  public func spread(
    _ needs: [ServiceSpread.Need], off node: String, nodeName: String, timeout: Double,
    cancelled: () -> Bool = { false }
  ) throws(PiSwarmError) -> [String] {
    var pending: [(service: ServiceSpread.Service, replicas: Int)] = []
    let scaleBack = { (entries: [(service: ServiceSpread.Service, replicas: Int)]) in
      for entry in entries { _ = try? manager.scaleService(entry.service.id, from: entry.replicas + 1, to: entry.replicas) }
    }
    for case .spread(let service, _) in needs {
      guard let replicas = service.replicas else { continue }
      do throws(PiSwarmError) {
        if try manager.scaleService(service.id, from: replicas, to: replicas + 1) {
          progress("\(nodeName): \(service.name) scaled to \(replicas + 1) until a task runs on another node")
          pending.append((service, replicas))
        } else {
          progress("\(nodeName): \(service.name) changed its replicas meanwhile; left as it is")
        }
      } catch {
        // The ones scaled up already go back before the error.
        scaleBack(pending)
        throw error
      }
    }
    let started = Stopwatch()
    let deadline = Deadline(in: timeout)
    let hostnames = Dictionary((try? manager.nodes())?.map { ($0.ID, $0.Description?.Hostname ?? $0.ID) } ?? []) { a, _ in a }
    var done: [String] = []
    var lastError: [String: String] = [:]
    while !pending.isEmpty {
      do {
        let tasks = try manager.tasks(services: pending.map(\.service.id))
        for entry in pending {
          let its = tasks.filter { $0.ServiceID == entry.service.id && $0.NodeID != node }
          if let running = its.first(where: { $0.Status.State == .running && $0.DesiredState == .running }) {
            try manager.scaleService(entry.service.id, from: entry.replicas + 1, to: entry.replicas)
            let host = running.NodeID.flatMap { hostnames[$0] } ?? running.NodeID ?? "?"
            done.append(
              "\(entry.service.name): a task runs on \(host) (\(String(format: "%.0f", started.seconds)) s), back to \(entry.replicas) replicas"
            )
            pending.removeAll { $0.service.id == entry.service.id }
          } else if let error = its.compactMap({ $0.Status.Err }).last {
            lastError[entry.service.name] = error
          }
        }
      } catch {
        lastError["swarm"] = error.message
      }
      if pending.isEmpty { break }
      if deadline.hasPassed || cancelled() {
        scaleBack(pending)
        let names = pending.map(\.service.name)
        let why = names.compactMap { name in lastError[name].map { "\(name): \($0)" } } + (lastError["swarm"].map { [$0] } ?? [])
        throw PiSwarmError(
          .system,
          "\(names.joined(separator: ", ")) started no task on another node than \(nodeName) "
            + (cancelled() ? "before the interruption" : "within \(Int(timeout)) s")
            + (why.isEmpty ? "" : " (\(why.joined(separator: "; ")))") + "; scaled back, \(nodeName) not drained",
          advice:
            "'docker service ps \(names[0])' on a manager shows why; a longer --wait gives slow nodes time, or free a node its placement allows"
        )
      }
      usleep(500_000)
    }
    return done
  }
}
