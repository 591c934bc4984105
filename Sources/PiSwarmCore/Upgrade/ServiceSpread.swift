import Foundation

/// Which replicated services a drain would stop whole, decided before the drain: a service
/// whose every running task is on the node about to be drained has none left while the swarm
/// starts new ones elsewhere (tens of seconds on a slow node). With 2 replicas or more such a
/// service is spread first (a task started on another node its placement allows, while the
/// others keep running); with 1 replica it is briefly unavailable, and said so. Pure: the edge
/// reads the swarm's services, tasks and nodes and carries out what this decides.
public enum ServiceSpread {
  /// A service as the decision sees it.
  public struct Service: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Its replicas; nil for a global service or a job (never spread).
    public var replicas: Int?
    /// Its placement constraints, as the API has them (`node.role==worker`).
    public var constraints: [String]

    public init(id: String, name: String, replicas: Int?, constraints: [String] = []) {
      self.id = id
      self.name = name
      self.replicas = replicas
      self.constraints = constraints
    }
  }

  /// A task the swarm wants running and that runs (desired state and state both running).
  public struct Task: Sendable, Equatable {
    public var service: String
    public var node: String

    public init(service: String, node: String) {
      self.service = service
      self.node = node
    }
  }

  /// A swarm node: what placement constraints look at, and whether it takes new tasks.
  public struct Member: Sendable, Equatable {
    public var id: String
    public var hostname: String
    public var role: Node.Role
    /// Ready and availability active: the scheduler may put a task there.
    public var takesTasks: Bool
    public var labels: [String: String]
    public var engineLabels: [String: String]
    public var os: String
    public var architecture: String

    public init(
      id: String, hostname: String, role: Node.Role, takesTasks: Bool, labels: [String: String] = [:],
      engineLabels: [String: String] = [:], os: String = "linux", architecture: String = ""
    ) {
      self.id = id
      self.hostname = hostname
      self.role = role
      self.takesTasks = takesTasks
      self.labels = labels
      self.engineLabels = engineLabels
      self.os = os
      self.architecture = architecture
    }
  }

  /// What a drain of the node means for one service that runs only there.
  public enum Need: Sendable, Equatable {
    /// Start one more task on one of `onto` (host names) before the drain.
    case spread(Service, onto: [String])
    /// One replica: nothing to keep running; it is down until it runs elsewhere.
    case alone(Service)
    /// No other Ready, Active node its placement allows: it is down until the node is back.
    case nowhere(Service)

    public var service: Service {
      switch self {
      case .spread(let service, _), .alone(let service), .nowhere(let service): service
      }
    }
  }

  /// The services a drain of `node` (a swarm node ID) would stop whole, by name.
  public static func needs(draining node: String, services: [Service], tasks: [Task], members: [Member]) -> [Need] {
    let running = Dictionary(grouping: tasks, by: \.service)
    let others = members.filter { $0.id != node && $0.takesTasks }
    var needs: [Need] = []
    for service in services.sorted(by: { $0.name < $1.name }) {
      guard let replicas = service.replicas, replicas >= 1 else { continue }
      let its = running[service.id] ?? []
      guard !its.isEmpty, its.allSatisfy({ $0.node == node }) else { continue }
      if replicas == 1 {
        needs.append(.alone(service))
        continue
      }
      let allowed = others.filter { member in service.constraints.allSatisfy { allows($0, member) } }
      needs.append(allowed.isEmpty ? .nowhere(service) : .spread(service, onto: allowed.map(\.hostname).sorted()))
    }
    return needs
  }

  /// Whether a placement constraint (`KEY==VALUE` or `KEY!=VALUE`) lets a task onto `member`,
  /// as the swarm's scheduler reads it: values compared without case, a missing label is the
  /// empty string. A key it does not know allows: the scheduler has the last word.
  public static func allows(_ constraint: String, _ member: Member) -> Bool {
    let equal: Bool
    let parts: [Substring]
    if let range = constraint.range(of: "!=") {
      equal = false
      parts = [constraint[..<range.lowerBound], constraint[range.upperBound...]]
    } else if let range = constraint.range(of: "==") {
      equal = true
      parts = [constraint[..<range.lowerBound], constraint[range.upperBound...]]
    } else {
      return true
    }
    let key = parts[0].trimmingCharacters(in: .whitespaces)
    let expected = parts[1].trimmingCharacters(in: .whitespaces)
    let actual: String
    switch key.lowercased() {
    case "node.id": actual = member.id
    case "node.hostname": actual = member.hostname
    case "node.role": actual = member.role.rawValue
    case "node.platform.os": actual = member.os
    case "node.platform.arch": actual = member.architecture
    default:
      if key.hasPrefix("node.labels.") {
        actual = member.labels[String(key.dropFirst("node.labels.".count))] ?? ""
      } else if key.hasPrefix("engine.labels.") {
        actual = member.engineLabels[String(key.dropFirst("engine.labels.".count))] ?? ""
      } else {
        return true
      }
    }
    return (actual.lowercased() == expected.lowercased()) == equal
  }

  /// The step's words for what it found on `node`: one clause a service.
  public static func summary(_ needs: [Need], node: String) -> String {
    guard !needs.isEmpty else { return "no replicated service runs all its tasks on \(node)" }
    return needs.map { need in
      let name = need.service.name
      switch need {
      case .spread(let service, let onto):
        return
          "\(name): \(service.replicas ?? 0) replicas, every running task on \(node); one more started on \(onto.joined(separator: " or ")) first"
      case .alone:
        return "\(name) has 1 replica, on \(node): unavailable from the drain until it runs on another node"
      case .nowhere(let service):
        let constraints = service.constraints.isEmpty ? "" : " (\(service.constraints.joined(separator: ", ")))"
        return
          "\(name): no other Ready, Active node its placement allows\(constraints): unavailable from the drain until \(node) is back"
      }
    }.joined(separator: "; ")
  }
}
