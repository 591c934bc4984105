import Foundation
import PiSwarmCore

/// One sample a node's watch script printed (Scripts/watch.sh): KEY=VALUE lines.
public struct NodeSample: Sendable, Equatable {
  public var values: [String: String]

  public init(_ values: [String: String] = [:]) { self.values = values }

  public static let keys = [
    "memory_total_kb", "memory_available_kb", "disk_total_kb", "disk_available_kb", "cpu_temp_mc", "throttled", "uptime_s",
    "dockerd", "docker_engine",
  ]

  /// The known keys of one block (lines up to, not with, the closing "."); values are checked
  /// text from a node, never trusted: unknown keys and control characters are dropped.
  public static func parse(_ block: String) -> NodeSample {
    NodeSample(KeyValueLines.parse(block, keys: keys).filter { $0.value.count <= 64 && $0.value.allSatisfy { !$0.isNewline } })
  }

  public func number(_ key: String) -> Double? { values[key].flatMap { Double($0) } }

  public var temperature: Double? { number("cpu_temp_mc").map { $0 / 1000 } }
  public var memory: (total: Double, available: Double)? {
    guard let total = number("memory_total_kb"), let available = number("memory_available_kb"), total > 0 else { return nil }
    return (total, available)
  }
  public var disk: (total: Double, available: Double)? {
    guard let total = number("disk_total_kb"), let available = number("disk_available_kb"), total > 0 else { return nil }
    return (total, available)
  }
  /// `vcgencmd get_throttled`'s bits, when the node has vcgencmd (a Pi).
  public var throttled: UInt32? {
    guard let hex = values["throttled"] else { return nil }
    return UInt32(hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex, radix: 16)
  }
}

/// The swarm's word on a node, from a manager.
public struct SwarmStanding: Sendable, Equatable, Codable {
  public var role: String
  public var state: String
  public var availability: String
  public var leader: Bool
  public var runningTasks: [String]

  public init(role: String, state: String, availability: String, leader: Bool, runningTasks: [String]) {
    self.role = role
    self.state = state
    self.availability = availability
    self.leader = leader
    self.runningTasks = runningTasks
  }
}

/// What the head knows of one node now: its SSH session, its last sample, the swarm's word,
/// its power and boot phase. Made by the watcher; read by the pure page and metric renderers.
public struct NodeView: Sendable, Equatable {
  public enum Reach: Sendable, Equatable {
    /// Not probed yet.
    case unknown
    case up
    /// Why: the SSH client's last word, or the silence.
    case down(String)
  }

  public var reach: Reach = .unknown
  /// When `reach` last changed.
  public var since: Date?
  /// When the last sample came.
  public var lastSample: Date?
  public var sample = NodeSample()
  /// Docker version and storage driver, read once per session (nil: not read or no dockerd).
  public var docker: String?
  public var storage: String?
  public var backingFilesystem: String?
  public var swarm: SwarmStanding?
  /// on, off, unknown, uncontrolled (PowerState's words); nil: not read yet.
  public var power: String?
  public var bootPhase: String?
  public var bootTime: Date?

  public init() {}
}
