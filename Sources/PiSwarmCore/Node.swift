/// One node, after range expansion and defaults.
public struct Node: Hashable, Sendable {
  public enum Role: String, Sendable, Codable {
    case manager
    case worker
  }

  public var name: String
  public var mac: MACAddress?
  public var ip: IPv4Address
  /// The last eight hex digits of the board serial, lowercase (the Pi 4/5 TFTP folder name).
  public var serial: String?
  public var model: BoardModel?
  public var boot: BootMode
  public var dockerStorage: DockerStorage
  public var power: PowerConfig
  public var labels: [String: String]
  public var role: Role
  /// Where the node's entry starts in the cluster file.
  public var location: SourceLocation
  /// The host-range pattern (`node[02-10]`) this node was expanded from, if any.
  public var range: String?
  /// Words added to the kernel command line (netboot); the node's own, else the defaults'.
  public var cmdlineExtra: String?
  /// Pi 4/5 bootloader settings (`eeprom:`): the node's own over the defaults'.
  public var eeprom = EEPROMConfig()

  public init(
    name: String, mac: MACAddress? = nil, ip: IPv4Address, serial: String? = nil,
    model: BoardModel? = nil, boot: BootMode = .netboot, dockerStorage: DockerStorage = .root,
    power: PowerConfig = .none, labels: [String: String] = [:], role: Role = .worker,
    location: SourceLocation = .start, range: String? = nil, cmdlineExtra: String? = nil
  ) {
    self.name = name
    self.mac = mac
    self.ip = ip
    self.serial = serial
    self.model = model
    self.boot = boot
    self.dockerStorage = dockerStorage
    self.power = power
    self.labels = labels
    self.role = role
    self.location = location
    self.range = range
    self.cmdlineExtra = cmdlineExtra
  }
}
