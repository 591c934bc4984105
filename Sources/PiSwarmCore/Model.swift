/// How a node's operating system gets there.
public enum BootMode: String, Sendable, CaseIterable, Codable {
  /// Diskless: boot files over TFTP, root over NFS, both served by piswarm.
  case netboot
  /// An SD card or USB disk written by `piswarm burn`.
  case sd
  /// The OS is already installed and running (machines piswarm did not provision, lab nodes).
  case preinstalled
}

/// The head's role on the cluster network's DHCP.
public enum LANMode: String, Sendable, CaseIterable, Codable {
  /// Another DHCP server (a router) hands out addresses; dnsmasq only adds boot information.
  case proxy
  /// dnsmasq is the DHCP server: one static lease per node.
  case dhcp
  /// No DHCP from piswarm at all.
  case none
}

/// Where a node's Docker keeps images and containers.
public enum DockerStorage: Hashable, Sendable, CustomStringConvertible {
  /// `/var/lib/docker` on the node's root filesystem. Impossible when the root is NFS.
  case root
  /// A sparse ext4 image file of this size, loop-mounted over `/var/lib/docker`.
  case loopfile(ByteSize)
  /// A local partition (SD card, USB disk).
  case device(String)
  /// Memory: fast, but everything, swarm state included, is lost at reboot. Workers only.
  case tmpfs(ByteSize)

  public static let kinds = ["root", "loopfile", "device", "tmpfs"]

  /// Parses `root`, `loopfile:SIZE`, `device:/dev/…`, `tmpfs:SIZE`; returns the reason on failure.
  public static func parse(_ text: String) -> Result<DockerStorage, StorageParseError> {
    let kind = text.prefix { $0 != ":" }
    let argument = text.dropFirst(kind.count + 1)
    let hasArgument = text.contains(":")
    switch kind {
    case "root":
      return hasArgument ? .failure(.init("\"root\" takes no argument; write docker_storage: root")) : .success(.root)
    case "loopfile", "tmpfs":
      guard hasArgument, !argument.isEmpty else {
        return .failure(.init("\"\(kind)\" needs a size, e.g. \(kind):16G"))
      }
      guard let size = ByteSize(argument), size.bytes > 0 else {
        return .failure(.init("\"\(argument)\" is not a size; write a whole number with K, M, G or T, e.g. \(kind):16G"))
      }
      return .success(kind == "loopfile" ? .loopfile(size) : .tmpfs(size))
    case "device":
      guard hasArgument, argument.hasPrefix("/dev/"), argument.count > 5 else {
        return .failure(.init("\"device\" needs a block device path, e.g. device:/dev/mmcblk0p3"))
      }
      // The path goes into the node's fstab, which splits on white space and reads '\' escapes.
      let path = String(argument)
      let allowed: Set<Unicode.Scalar> = ["/", ".", "_", "-", "+", ":", "@", "="]
      if let bad = path.unicodeScalars.first(where: { !($0.isASCIIAlphanumeric || allowed.contains($0)) }) {
        return .failure(
          .init(
            "device path \"\(path.terminalSafe)\" holds \(HeadPath.name(of: bad)): it goes into the node's fstab; give a plain path under /dev/, e.g. device:/dev/mmcblk0p3 or device:/dev/disk/by-uuid/…"
          ))
      }
      if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
        return .failure(
          .init("device path \"\(path)\" holds a \".\" or \"..\" component; give a plain path under /dev/, e.g. device:/dev/sda1")
        )
      }
      return .success(.device(path))
    default:
      return .failure(
        .init(
          "\"\(text)\" is not a storage mode; use root, loopfile:SIZE, device:/dev/… or tmpfs:SIZE"
            + Suggestion.hint(for: String(kind), in: kinds)))
    }
  }

  public var description: String {
    switch self {
    case .root: "root"
    case .loopfile(let size): "loopfile:\(size)"
    case .device(let path): "device:\(path)"
    case .tmpfs(let size): "tmpfs:\(size)"
    }
  }

  public struct StorageParseError: Error, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
  }
}

/// Power control settings: a driver and its string settings (`on`, `off`, `port`, …).
public struct PowerConfig: Hashable, Sendable {
  public static let drivers = ["none", "command", "lab"]

  public var driver: String
  public var settings: [String: String]

  public init(driver: String, settings: [String: String] = [:]) {
    self.driver = driver
    self.settings = settings
  }

  public static let none = PowerConfig(driver: "none")

  /// A node's settings laid over the defaults: the node's driver wins when given, and its
  /// settings override the defaults' one by one.
  public func overlaid(with node: PartialPower?) -> PowerConfig {
    guard let node else { return self }
    var merged = node.driver == nil || node.driver == driver ? settings : [:]
    for (key, value) in node.settings { merged[key] = value }
    return PowerConfig(driver: node.driver ?? driver, settings: merged)
  }
}

/// Power settings as written on one node, where every key is optional.
public struct PartialPower: Hashable, Sendable {
  public var driver: String?
  public var settings: [String: String]

  public init(driver: String?, settings: [String: String]) {
    self.driver = driver
    self.settings = settings
  }
}

/// Board models piswarm knows how to boot; `other` for anything else.
public enum BoardModel: String, Sendable, CaseIterable, Codable {
  case pi3b
  case pi3bplus = "pi3b+"
  case pi4
  case pi400
  case cm4
  case pi5
  case pi500
  case cm5
  case zero2w
  case other
}

/// The head: the machine running piswarm, serving DHCP/TFTP/NFS to the nodes.
public struct Head: Hashable, Sendable {
  public var interface: String
  public var address: IPv4Interface
  public var lan: LANMode
  public var dhcpRange: ClosedRange<IPv4Address>?
  public var tftpRoot: String
  public var nfsRoot: String
  public var dnsmasqConf: String

  public static let defaultTFTPRoot = "/srv/piswarm/tftp"
  public static let defaultNFSRoot = "/srv/piswarm/nfs"
  public static let defaultDnsmasqConf = "/etc/dnsmasq.d/piswarm.conf"
}

public struct SSHSettings: Hashable, Sendable {
  public var user: String
  /// The private key path as written (`~` not yet expanded); nil means the key `piswarm init`
  /// made in the state directory.
  public var key: String?

  public static let defaultUser = "root"
}

public struct NodeDefaults: Hashable, Sendable {
  public var boot: BootMode
  public var image: String?
  /// Nil means "by boot mode": `loopfile:16G` for netboot (NFS root), `root` otherwise.
  public var dockerStorage: DockerStorage?
  public var power: PowerConfig
  /// Words added to every netboot node's kernel command line (`cmdline.txt`).
  public var cmdlineExtra: String? = nil

  public static let netbootStorage = DockerStorage.loopfile(.gibibytes(16))
}

public struct SwarmSettings: Hashable, Sendable {
  public enum Managers: Hashable, Sendable {
    case count(Int)
    case names([String])
  }

  /// Nil means the default: 3 managers with 3 or more nodes, else 1.
  public var managers: Managers?
  public var labels: [String: String]
  public var advertise: String
  /// Swarm autolock: managers' raft keys encrypted at rest; a restarted manager stays locked
  /// until `up` unlocks it with the key it keeps in the state store.
  public var autolock = false

  public static let defaultAdvertise = "eth0"
}

/// How every node's dockerd is configured (its daemon.json), beyond storage.
public struct DockerSettings: Hashable, Sendable {
  /// Registry mirrors (`https://…`), tried before Docker Hub.
  public var registryMirrors: [String]
  /// json-file log rotation: the size at which a container's log is rotated (Docker's format:
  /// a number with k, m or g) and how many files are kept.
  public var logMaxSize: String
  public var logMaxFiles: Int

  public static let defaultLogMaxSize = "10m"
  public static let defaultLogMaxFiles = 3

  public init(registryMirrors: [String] = [], logMaxSize: String = defaultLogMaxSize, logMaxFiles: Int = defaultLogMaxFiles) {
    self.registryMirrors = registryMirrors
    self.logMaxSize = logMaxSize
    self.logMaxFiles = logMaxFiles
  }
}

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

/// The desired state of a cluster, decoded from `cluster.yml`.
public struct Cluster: Hashable, Sendable {
  public static let schemaVersion = 1

  public var name: String
  public var head: Head
  public var ssh: SSHSettings
  public var defaults: NodeDefaults
  public var swarm: SwarmSettings
  public var docker: DockerSettings
  public var nodes: [Node]

  public init(
    name: String, head: Head, ssh: SSHSettings, defaults: NodeDefaults, swarm: SwarmSettings,
    docker: DockerSettings = DockerSettings(), nodes: [Node]
  ) {
    self.name = name
    self.head = head
    self.ssh = ssh
    self.defaults = defaults
    self.swarm = swarm
    self.docker = docker
    self.nodes = nodes
  }

  public var managers: [Node] { nodes.filter { $0.role == .manager } }
  public var workers: [Node] { nodes.filter { $0.role == .worker } }

  public func node(named name: String) -> Node? { nodes.first { $0.name == name } }
}
