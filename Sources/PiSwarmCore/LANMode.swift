/// The head's role on the cluster network's DHCP.
public enum LANMode: String, Sendable, CaseIterable, Codable {
  /// Another DHCP server (a router) hands out addresses; dnsmasq only adds boot information.
  case proxy
  /// dnsmasq is the DHCP server: one static lease per node.
  case dhcp
  /// No DHCP from piswarm at all.
  case none
}
