import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Boot events from the hook (in the state store) and from dnsmasq's log, in time order.
public enum BootEventSources {
  public static func logEvents(_ paths: NetbootPaths, now: Date = Date()) -> [BootEvent] {
    // The older generation first (see DnsmasqLogRotation).
    let data = [paths.log + ".1", paths.log].compactMap { FileManager.default.contents(atPath: $0) }
    guard !data.isEmpty else { return [] }
    return DnsmasqLog.events(data.map { String(decoding: $0, as: UTF8.self) }.joined(), now: now)
  }
}
