import Foundation

/// Something dnsmasq saw a machine do on its way to booting: from the `dhcp-script` hook or from
/// dnsmasq's log.
public struct BootEvent: Hashable, Sendable, Codable {
  public enum Kind: String, Hashable, Sendable, Codable {
    /// A PXE request answered (proxy mode: only in the log).
    case pxe
    /// A DHCPDISCOVER (with or without an answer).
    case discover
    /// A lease given or renewed (`add`, `old`).
    case lease
    /// A lease ended (`del`).
    case release
    /// The head learned the machine's MAC for an address (`arp-add`).
    case arp
    /// A file was sent over TFTP.
    case tftpSent = "tftp-sent"
    /// A file was asked for and not found.
    case tftpMissing = "tftp-missing"
  }

  public var time: Date
  public var kind: Kind
  /// Lowercase, colons.
  public var mac: String?
  public var ip: String?
  /// The file's path on the head, for TFTP events.
  public var path: String?
  public var vendorClass: String?
  /// Size of a sent file, host name of a lease, and the like.
  public var detail: String?
  /// The board model from option 97 (Pi 4/5), when the log showed it.
  public var model: String?

  public init(
    time: Date, kind: Kind, mac: String? = nil, ip: String? = nil, path: String? = nil, vendorClass: String? = nil,
    detail: String? = nil
  ) {
    self.time = time
    self.kind = kind
    self.mac = mac
    self.ip = ip
    self.path = path
    self.vendorClass = vendorClass
    self.detail = detail
  }

  /// The vendor class of the Pi boot ROM's requests.
  public static let piVendorClass = "PXEClient:Arch:00000:UNDI:002001"

  public var asksToNetboot: Bool { kind == .pxe || vendorClass?.hasPrefix("PXEClient") == true }

  /// An event from the arguments dnsmasq passes its `dhcp-script` (`add|old|del MAC IP [HOST]`,
  /// `tftp SIZE IP PATH`, `arp-add|arp-del MAC IP`) and the `DNSMASQ_*` variables it sets. Nil for
  /// calls that say nothing about a boot (`init`, `tftp` with a bad size, malformed ones).
  public static func fromHook(_ arguments: [String], environment: [String: String], time: Date) -> BootEvent? {
    guard let action = arguments.first else { return nil }
    // Everything here came off the LAN: bounded, and stored with terminal controls escaped.
    let vendor = environment["DNSMASQ_VENDOR_CLASS"].flatMap { $0.isEmpty ? nil : TerminalText.escaped(String($0.prefix(200))) }
    func mac(_ index: Int) -> String? {
      guard index < arguments.count, let mac = MACAddress(arguments[index]) else { return nil }
      return mac.description
    }
    func ip(_ index: Int) -> String? {
      guard index < arguments.count, let ip = IPv4Address(arguments[index]) else { return nil }
      return ip.description
    }
    switch action {
    case "add", "old", "del":
      guard let mac = mac(1), let ip = ip(2) else { return nil }
      let host = arguments.count > 3 && HostName.problem(with: arguments[3]) == nil ? arguments[3] : nil
      return BootEvent(time: time, kind: action == "del" ? .release : .lease, mac: mac, ip: ip, vendorClass: vendor, detail: host)
    case "arp-add", "arp":
      guard let mac = mac(1), let ip = ip(2) else { return nil }
      return BootEvent(time: time, kind: .arp, mac: mac, ip: ip)
    case "tftp":
      guard arguments.count >= 4, let size = Int(arguments[1]), size >= 0, let ip = ip(2) else { return nil }
      return BootEvent(
        time: time, kind: .tftpSent, ip: ip, path: TerminalText.escaped(String(arguments[3].prefix(4096))),
        detail: "\(size) bytes")
    default:
      return nil
    }
  }
}
