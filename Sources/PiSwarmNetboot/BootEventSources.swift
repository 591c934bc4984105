import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Boot events from the hook (in the state store) and from dnsmasq's log, in time order.
public enum BootEventSources {
  public static func logEvents(_ paths: NetbootPaths, now: Date = Date()) -> [BootEvent] {
    guard let data = FileManager.default.contents(atPath: paths.log) else { return [] }
    return DnsmasqLog.events(String(decoding: data, as: UTF8.self), now: now)
  }
}
