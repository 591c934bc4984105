import Foundation
import PiSwarmCore

/// piswarm's own known_hosts file: pinned host keys, one line per address.
public enum KnownHosts {
  /// Replaces every line for `hosts` with `lines`, keeping all other lines as they are. Fields
  /// are split on any whitespace. A line piswarm is given is refused when it holds a control
  /// character or a marker (`@cert-authority`, `@revoked`), or is not `HOST TYPE KEY`; marker
  /// lines already in the file (piswarm never writes one) are dropped.
  public static func replace(hosts: [String], with lines: [String], in path: String) throws(PiSwarmError) {
    for line in lines {
      if let problem = problem(line) {
        throw PiSwarmError(
          .invalidInput, "refusing to pin a host key line in \(path): \(problem)",
          advice: "a node's host key must be a single ssh-ed25519 key that piswarm made")
      }
    }
    for host in hosts where host.isEmpty || host.unicodeScalars.contains(where: { SSHHostKey.isControl($0) || $0 == " " }) {
      throw PiSwarmError(.invalidInput, "refusing a known_hosts host name with spaces or control characters")
    }
    let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let drop = Set(hosts)
    var kept = existing.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init).filter { line in
      let fields = fields(line)
      guard let host = fields.first else { return false }
      if host.hasPrefix("@") { return false }
      return !host.split(separator: ",").contains { drop.contains(String($0)) }
    }
    kept += lines
    try AtomicFile.write(kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n", to: path, mode: 0o600)
  }

  /// What is wrong with `line` as a line piswarm writes, or nil.
  public static func problem(_ line: String) -> String? {
    if line.unicodeScalars.contains(where: SSHHostKey.isControl) { return "it holds control characters or more than one line" }
    let fields = fields(line)
    if fields.first?.hasPrefix("@") == true { return "it holds a marker (\(fields[0].prefix(20)))" }
    if fields.count < 3 { return "it is not HOST TYPE KEY" }
    return nil
  }

  static func fields(_ line: String) -> [Substring] {
    line.split(whereSeparator: { $0 == " " || $0 == "\t" })
  }
}
