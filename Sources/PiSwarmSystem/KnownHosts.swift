import Foundation
import PiSwarmCore

/// piswarm's own known_hosts file: pinned host keys, one line per address.
public enum KnownHosts {
  /// Replaces every line for `hosts` with `lines`, keeping all other lines as they are.
  public static func replace(hosts: [String], with lines: [String], in path: String) throws(PiSwarmError) {
    let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let drop = Set(hosts)
    var kept = existing.split(separator: "\n").map(String.init).filter { line in
      guard let host = line.split(separator: " ").first else { return true }
      return !host.split(separator: ",").contains { drop.contains(String($0)) }
    }
    kept += lines
    try AtomicFile.write(kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n", to: path, mode: 0o600)
  }
}
