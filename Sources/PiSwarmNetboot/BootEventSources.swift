import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Boot events from the hook (its spool) and from dnsmasq's log.
public enum BootEventSources {
  public static func logEvents(_ paths: NetbootPaths, now: Date = Date()) -> [BootEvent] {
    // The older generation first (see DnsmasqLogRotation).
    let data = [paths.log + ".1", paths.log].compactMap { FileManager.default.contents(atPath: $0) }
    guard !data.isEmpty else { return [] }
    return DnsmasqLog.events(data.map { String(decoding: $0, as: UTF8.self) }.joined(), now: now)
  }

  /// The events the hook recorded in its spool (both segments; not in time order across them).
  /// The spool is written from what machines on the LAN sent: `HookSpool.events` validates it.
  public static func hookEvents(_ paths: NetbootPaths) -> [BootEvent] {
    HookSpool.segments(paths.hookSpool).flatMap { path in
      FileManager.default.contents(atPath: path).map { HookSpool.events([UInt8]($0)) } ?? []
    }
  }
}
