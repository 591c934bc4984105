/// NAT through the head (`head.nat: UPLINK`): the nodes on the cluster network reach the world
/// through the head's uplink. piswarm owns one nftables table, `ip piswarm`, and nothing else:
/// it is replaced whole (one `nft -f` transaction) when it differs, and deleted when the key goes.
/// IP forwarding is switched on with it (and left on when it goes: Docker and others need it too).
public enum HeadNAT {
  /// The nftables family and name of piswarm's table.
  public static let table = "ip piswarm"

  /// The table as `nft list table ip piswarm` prints it: one masquerade rule for traffic from
  /// the cluster subnet to anywhere else, out of the uplink.
  public static func table(subnet: String, uplink: String) -> String {
    """
    table \(table) {
    \tcomment "piswarm: nat for \(subnet) out of \(uplink)"
    \tchain postrouting {
    \t\ttype nat hook postrouting priority srcnat; policy accept;
    \t\tip saddr \(subnet) ip daddr != \(subnet) oifname "\(uplink)" masquerade
    \t}
    }

    """
  }

  /// The table for a head with `nat:` set; nil without.
  public static func table(for head: Head) -> String? {
    guard let uplink = head.nat else { return nil }
    return table(subnet: head.address.networkDescription, uplink: uplink)
  }

  /// The script `nft -f -` runs: creates the table if absent, deletes it and defines it anew,
  /// all in one transaction (so running it twice changes nothing and never leaves a gap).
  public static func replaceScript(_ table: String) -> String {
    "table \(Self.table)\ndelete table \(Self.table)\n" + table
  }

  /// The script that removes piswarm's table (only when it exists: see `State`).
  public static let deleteScript = "delete table \(table)\n"

  /// The head's NAT as read: the table as nft lists it (nil when there is none) and whether
  /// IPv4 forwarding is on.
  public struct State: Sendable, Equatable {
    public var table: String?
    public var forwarding: Bool

    public init(table: String?, forwarding: Bool) {
      self.table = table
      self.forwarding = forwarding
    }
  }

  /// What `up` changes: the table put in place (with forwarding on), or removed.
  public enum Plan: Sendable, Equatable {
    /// `table` replaces piswarm's table; `forwarding`: IPv4 forwarding is off and is turned on.
    case apply(table: String, subnet: String, uplink: String, forwarding: Bool)
    case remove

    /// In words, for the CHANGE column.
    public var change: String {
      switch self {
      case .apply(_, let subnet, let uplink, let forwarding):
        "masquerade \(subnet) out of \(uplink) (nft table \(HeadNAT.table))"
          + (forwarding ? ", turn IPv4 forwarding on" : "")
      case .remove: "remove nft table \(HeadNAT.table) (head.nat is gone)"
      }
    }
  }

  /// Nil when the head already is as `head.nat` says.
  public static func plan(_ state: State, head: Head) -> Plan? {
    guard let uplink = head.nat, let wanted = table(for: head) else { return state.table == nil ? nil : .remove }
    let same = state.table.map(normalized) == normalized(wanted)
    if same && state.forwarding { return nil }
    return .apply(table: wanted, subnet: head.address.networkDescription, uplink: uplink, forwarding: !state.forwarding)
  }

  /// nft's listing, compared without trailing spaces and blank lines.
  static func normalized(_ text: String) -> [Substring] {
    text.split(separator: "\n").map { line in
      var line = line
      while line.last == " " || line.last == "\t" { line.removeLast() }
      return line
    }.filter { !$0.isEmpty }
  }
}
