import Foundation
import PiSwarmCore
import PiSwarmSystem

/// The head's NAT on this machine (or in a network namespace): piswarm's nft table read,
/// replaced whole or deleted with `nft -f -`, IPv4 forwarding read and set with `sysctl`.
public struct HeadNATControl: Sendable {
  /// Put before every command (`nsenter --net=/run/netns/NAME --` in tests); empty on a head.
  public var prefix: [String]

  public init(prefix: [String] = []) {
    self.prefix = prefix
  }

  func command(_ tool: String, _ arguments: [String]) -> Command {
    let all = prefix + [tool] + arguments
    return Command(all[0], Array(all.dropFirst()), timeout: 30)
  }

  /// The table as nft lists it (nil when there is none), and whether forwarding is on.
  public func observe() throws(PiSwarmError) -> HeadNAT.State {
    let listed = try command("nft", ["list", "table"] + HeadNAT.table.split(separator: " ").map(String.init)).run()
    let forwarding = try command("sysctl", ["-n", "net.ipv4.ip_forward"]).run()
    guard forwarding.status == 0 else {
      throw PiSwarmError(
        .system, "cannot read net.ipv4.ip_forward: \(forwarding.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
        advice: "check that sysctl (procps) is installed")
    }
    if listed.status != 0 && !listed.stderrText.contains("No such file or directory") {
      throw PiSwarmError(
        .system, "nft cannot list table \(HeadNAT.table): \(listed.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
        advice: "install nftables (apt-get install nftables) and run piswarm as root")
    }
    return HeadNAT.State(
      table: listed.status == 0 ? listed.stdoutText : nil,
      forwarding: forwarding.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
  }

  /// Carries out `plan`: the table replaced in one transaction and forwarding turned on, or the
  /// table deleted.
  public func apply(_ plan: HeadNAT.Plan) throws(PiSwarmError) {
    switch plan {
    case .apply(let table, _, _, let forwarding):
      if forwarding { try command("sysctl", ["-qw", "net.ipv4.ip_forward=1"]).check() }
      try command("nft", ["-f", "-"]).check(input: Data(HeadNAT.replaceScript(table).utf8))
    case .remove:
      try command("nft", ["-f", "-"]).check(input: Data(HeadNAT.deleteScript.utf8))
    }
  }
}
