/// `piswarm facts`: one remote script prints KEY=VALUE lines; a pure parser reads them.
public enum NodeFacts {
  public static let keys = [
    "arch", "model", "os", "kernel", "memory_total_kb", "memory_available_kb", "disk_total_kb", "disk_available_kb",
    "cpu_temp_c", "throttled", "uptime_s", "docker", "swarm",
  ]

  /// A POSIX sh script; every command may be missing on a node, so each line stands alone.
  public static let script = """
    echo "arch=$(uname -m)"
    if [ -r /proc/device-tree/model ]; then echo "model=$(tr -d '\\000' < /proc/device-tree/model)"; \
    elif [ -r /sys/class/dmi/id/product_name ]; then echo "model=$(cat /sys/class/dmi/id/product_name)"; fi
    [ -r /etc/os-release ] && echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "kernel=$(uname -r)"
    awk '/^MemTotal:/ {print "memory_total_kb=" $2} /^MemAvailable:/ {print "memory_available_kb=" $2}' /proc/meminfo
    df -Pk / 2>/dev/null | awk 'NR==2 {print "disk_total_kb=" $2; print "disk_available_kb=" $4}'
    [ -r /sys/class/thermal/thermal_zone0/temp ] && awk '{printf "cpu_temp_c=%.1f\\n", $1/1000}' /sys/class/thermal/thermal_zone0/temp
    command -v vcgencmd >/dev/null 2>&1 && echo "throttled=$(vcgencmd get_throttled | cut -d= -f2)"
    echo "uptime_s=$(cut -d' ' -f1 /proc/uptime)"
    command -v docker >/dev/null 2>&1 && echo "docker=$(docker version --format '{{.Server.Version}}' 2>/dev/null)" \
      && echo "swarm=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)"
    true
    """

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

/// `KEY=VALUE` lines printed by a remote script.
public enum KeyValueLines {
  /// The lines whose key is in `keys`, values trimmed; empty values are dropped.
  public static func parse(_ output: String, keys: [String]) -> [String: String] {
    var facts: [String: String] = [:]
    for line in output.split(separator: "\n") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals])
      let value = String(line[line.index(after: equals)...]).trimmingCharacters(in: " \t\r")
      if keys.contains(key), !value.isEmpty { facts[key] = value }
    }
    return facts
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
