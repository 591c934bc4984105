/// `piswarm facts`: one remote script prints KEY=VALUE lines; a pure parser reads them.
public enum NodeFacts {
  public static let keys = [
    "arch", "model", "os", "kernel", "root", "memory_total_kb", "memory_available_kb", "disk_total_kb", "disk_available_kb",
    "cpu_temp_c", "throttled", "uptime_s", "docker", "swarm", "bootloader_config", "mtu",
  ]

  /// The script (Scripts/facts.sh); every command may be missing on a node, so each line stands
  /// alone.
  public static let script = RemoteScript.facts

  /// The KEY=VALUE lines of known keys; empty values are dropped.
  public static func parse(_ output: String) -> [String: String] { KeyValueLines.parse(output, keys: keys) }

  /// Throttling flags as words (from `vcgencmd get_throttled`'s hex bits).
  public static func describeThrottled(_ hex: String) -> String {
    guard let bits = UInt32(hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex, radix: 16) else { return hex }
    if bits == 0 { return "no" }
    let names: [(UInt32, String)] = [
      (1 << 0, "under-voltage"), (1 << 1, "freq-capped"), (1 << 2, "throttled"), (1 << 3, "soft-temp-limit"),
      (1 << 16, "under-voltage-seen"), (1 << 17, "freq-capped-seen"), (1 << 18, "throttled-seen"),
      (1 << 19, "soft-temp-limit-seen"),
    ]
    return names.filter { bits & $0.0 != 0 }.map(\.1).joined(separator: ",")
  }
}

extension String {
  func trimmingCharacters(in set: String) -> String {
    var scalars = Substring(self)
    while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() }
    while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() }
    return String(scalars)
  }
}
