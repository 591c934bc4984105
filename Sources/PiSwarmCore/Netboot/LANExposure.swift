/// What a shared LAN means for netboot nodes. In proxy mode the nodes sit on the user's LAN: any
/// machine there can answer their boot requests first, and take a node's address to read and
/// write its root over NFSv3, whose `sec=sys` trusts the address and the user IDs a client
/// claims. docs/security.md has the whole threat model.
public enum LANExposure {
  /// The warning `validate` and `netboot apply` print for a cluster whose netboot nodes sit on a
  /// shared LAN (`lan: proxy`); nil otherwise.
  public static func warning(_ cluster: Cluster) -> String? {
    guard cluster.head.lan == .proxy else { return nil }
    let count = cluster.nodes.filter { $0.boot == .netboot }.count
    guard count > 0 else { return nil }
    return "\(count) netboot node\(count == 1 ? "" : "s") sit\(count == 1 ? "s" : "") on a shared LAN (head.lan: proxy): "
      + "any machine on it can answer their boot requests, and read and write their NFS roots by taking a node's address "
      + "(NFSv3 sec=sys trusts the address and the user IDs a client claims); give the nodes a network of their own "
      + "(an interface or VLAN with lan: dhcp) — see docs/security.md"
  }
}
