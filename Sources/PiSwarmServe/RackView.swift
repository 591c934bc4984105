import Foundation
import PiSwarmCore

/// The rack as the page shows it: groups of tiles in cluster-file order. Pure: made from the
/// cluster and the observations; every word a tile shows is decided here.
public struct RackView: Sendable, Equatable {
  public struct Group: Sendable, Equatable {
    public var name: String
    public var tiles: [Tile]
  }

  /// One node's tile. `health` is the colour (ok, warn, bad, unknown); `reasons` say why.
  public struct Tile: Sendable, Equatable {
    public var name: String
    public var ip: String
    /// up, down, probing.
    public var status: String
    public var health: String
    public var reasons: [String]
    /// Label and value pairs, in the tile's order.
    public var lines: [Line]
    /// swarm availability (active, pause, drain) when known, for the drain/activate button.
    public var availability: String?
    /// The power as the driver read it, for the power buttons.
    public var power: String?
  }

  public struct Line: Sendable, Equatable {
    public var label: String
    public var value: String
  }

  public var cluster: String
  public var groups: [Group]
  public var counts: [String: Int]

  /// The labels that group the rack, first found wins.
  public static let groupLabels = ["rack", "shelf"]

  public static func build(_ cluster: Cluster, _ observations: [String: NodeView], now: Date) -> RackView {
    var groups: [Group] = []
    var counts: [String: Int] = [:]
    for node in cluster.nodes {
      let tile = tile(node, observations[node.name] ?? NodeView(), now: now)
      counts[tile.health, default: 0] += 1
      let group = groupLabels.lazy.compactMap { node.labels[$0] }.first.map { "\($0)" } ?? ""
      if let index = groups.firstIndex(where: { $0.name == group }) {
        groups[index].tiles.append(tile)
      } else {
        groups.append(Group(name: group, tiles: [tile]))
      }
    }
    return RackView(cluster: cluster.name, groups: groups, counts: counts)
  }

  /// Health and reasons, worst first.
  public static func tile(_ node: Node, _ seen: NodeView, now: Date) -> Tile {
    var bad: [String] = []
    var warn: [String] = []
    var lines: [Line] = []
    let status: String
    switch seen.reach {
    case .unknown:
      status = "probing"
    case .up:
      status = "up"
    case .down(let why):
      status = "down"
      bad.append("down\(seen.since.map { " since \(clock($0))" } ?? ""): \(why)")
    }
    lines.append(Line(label: "power", value: seen.power ?? "?"))
    if seen.power == "off" && status != "down" { warn.append("power reads off but the node answers") }
    if let phase = seen.bootPhase {
      lines.append(Line(label: "boot", value: phase + (seen.bootTime.map { " at \(clock($0))" } ?? "")))
    }
    if let swarm = seen.swarm {
      lines.append(
        Line(label: "swarm", value: "\(swarm.role)\(swarm.leader ? " (leader)" : "") \(swarm.state) \(swarm.availability)"))
      lines.append(Line(label: "tasks", value: "\(swarm.runningTasks.count) running"))
      if swarm.state != "ready" && status == "up" { bad.append("the swarm sees it \(swarm.state)") }
      if swarm.availability != "active" {
        warn.append("\(swarm.availability == "drain" ? "drained" : swarm.availability): no new tasks")
      }
    } else if status == "up" && node.role == .manager || status == "up" && seen.sample.values["dockerd"] == "running" {
      lines.append(Line(label: "swarm", value: "not in the swarm"))
    }
    if status == "up" {
      if seen.sample.values["dockerd"] == "stopped" { bad.append("dockerd is not running") }
      if let temperature = seen.sample.temperature {
        lines.append(Line(label: "temp", value: String(format: "%.1f °C", temperature)))
        if temperature >= 80 {
          bad.append(String(format: "hot: %.0f °C", temperature))
        } else if temperature >= 70 {
          warn.append(String(format: "warm: %.0f °C", temperature))
        }
      }
      if let bits = seen.sample.throttled {
        let (now, since) = throttling(bits)
        lines.append(Line(label: "throttling", value: now.isEmpty ? "none now" : now.joined(separator: ", ")))
        if !since.isEmpty { lines.append(Line(label: "since boot", value: since.joined(separator: ", "))) }
        if now.contains("under-voltage") { bad.append("under-voltage now: check the power supply") }
        if !now.isEmpty && !now.contains("under-voltage") { warn.append("throttled now: \(now.joined(separator: ", "))") }
        if now.isEmpty && !since.isEmpty { warn.append("since boot: \(since.joined(separator: ", "))") }
      }
      if let memory = seen.sample.memory {
        let used = 1 - memory.available / memory.total
        lines.append(Line(label: "memory", value: "\(percent(used)) of \(size(memory.total))"))
        if used >= 0.9 { warn.append("memory \(percent(used)) used") }
      }
      if let disk = seen.sample.disk {
        let used = 1 - disk.available / disk.total
        lines.append(Line(label: "disk", value: "\(percent(used)) of \(size(disk.total))"))
        if used >= 0.9 { warn.append("disk \(percent(used)) full") }
      }
    }
    let health = status == "probing" ? "unknown" : !bad.isEmpty ? "bad" : !warn.isEmpty ? "warn" : "ok"
    return Tile(
      name: node.name, ip: node.ip.description, status: status, health: health,
      reasons: bad + warn, lines: lines, availability: seen.swarm?.availability, power: seen.power)
  }

  /// `vcgencmd get_throttled`'s bits as words: what holds now, and what happened since boot.
  public static func throttling(_ bits: UInt32) -> (now: [String], since: [String]) {
    let names = ["under-voltage", "frequency capped", "throttled", "soft temperature limit"]
    let now = names.enumerated().filter { bits & (1 << UInt32($0.offset)) != 0 }.map(\.element)
    let since = names.enumerated().filter { bits & (1 << UInt32($0.offset + 16)) != 0 }.map(\.element)
    return (now, since)
  }

  static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

  static func size(_ kilobytes: Double) -> String {
    kilobytes >= 1_048_576 ? String(format: "%.1f GiB", kilobytes / 1_048_576) : String(format: "%.0f MiB", kilobytes / 1024)
  }

  /// HH:MM:SS in UTC: pages are read by people on other machines, so the zone is said.
  static func clock(_ date: Date) -> String {
    let seconds = Int(date.timeIntervalSince1970.rounded(.down)) % 86_400
    return String(format: "%02d:%02d:%02d UTC", seconds / 3600, seconds / 60 % 60, seconds % 60)
  }
}
