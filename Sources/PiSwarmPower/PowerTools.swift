import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The programs the network power drivers run (Debian's `snmp`, `curl` and `openssl`), by name
/// (looked up on PATH) or by path. Tests put a recorder in front of one to see its arguments.
public struct PowerTools: Sendable {
  public var snmpset = "snmpset"
  public var snmpget = "snmpget"
  public var curl = "curl"
  public var openssl = "openssl"

  public init() {}
}

/// A folder only piswarm's user can enter (0700, under $TMPDIR or /tmp) for files that carry a
/// credential to one tool run (0600), removed with everything in it when `body` returns or
/// throws.
enum PrivateScratch {
  static func with<T>(_ body: (String) throws(PiSwarmError) -> T) throws(PiSwarmError) -> T {
    let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array("\(base)/piswarm-power-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
      throw PiSwarmError(
        .system, "cannot make a private folder in \(base): \(String(cString: strerror(errno)))",
        advice: "check that \(base) exists and is writable, or point TMPDIR elsewhere")
    }
    let path = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
  }
}

extension SecretStore {
  /// The secret named `name`, or nil for no name.
  func secret(named name: String?) throws(PiSwarmError) -> Secret? {
    guard let name else { return nil }
    return try secret(name)
  }
}

/// Waits `seconds` (between off and on of a cycle), on the calling thread (a FanOut worker's).
func pause(seconds: Double) {
  guard seconds > 0 else { return }
  var time = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1_000_000_000))
  var left = timespec()
  while nanosleep(&time, &left) != 0 && errno == EINTR { time = left }
}

/// The verbs of a driver that switches (`set`) and reads (`read`): `cycle` is off, a pause of
/// `cycleDelay` seconds, on. Returns the state the last step reported.
func perform(
  _ verb: PowerVerb, cycleDelay: Double, set: (_ on: Bool) throws(PiSwarmError) -> PowerState,
  read: () throws(PiSwarmError) -> PowerState
) throws(PiSwarmError) -> PowerState {
  switch verb {
  case .on: return try set(true)
  case .off: return try set(false)
  case .status: return try read()
  case .cycle:
    _ = try set(false)
    pause(seconds: cycleDelay)
    return try set(true)
  }
}
