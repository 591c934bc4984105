import Foundation

/// Machines that asked to netboot but are not in the cluster file, and how `discover --add`
/// names and places them.
public struct Sighting: Hashable, Sendable, Codable {
  public var mac: String
  /// The address it was last seen with (a router's lease in proxy mode).
  public var ip: String?
  public var vendorClass: String?
  /// The serial folder it asked for (Pi 4/5), when it did.
  public var serial: String?
  public var model: String?
  public var isPi: Bool
  public var firstSeen: Date
  public var lastSeen: Date

  public init(
    mac: String, ip: String? = nil, vendorClass: String? = nil, serial: String? = nil, model: String? = nil, isPi: Bool,
    firstSeen: Date, lastSeen: Date
  ) {
    self.mac = mac
    self.ip = ip
    self.vendorClass = vendorClass
    self.serial = serial
    self.model = model
    self.isPi = isPi
    self.firstSeen = firstSeen
    self.lastSeen = lastSeen
  }
}
