/// Names, addresses and paths of one virtual lab: derived from its name, its subnet index and the
/// state directory, so that every piece can be found again (also after a crash half-way).
public struct LabLayout: Hashable, Sendable {
  public struct Node: Hashable, Sendable {
    public var number: Int
    public var name: String
    public var ip: IPv4Address
    public var mac: MACAddress
    /// The node's network namespace (`/run/netns/NAME`).
    public var namespace: String
    /// The bridge port for this node inside the switch namespace.
    public var port: String
    /// The node's private folders on the host.
    public var directory: String
  }

  /// Lab names: short, because the host interface `psl-NAME` has at most 15 characters.
  public static let maximumNameLength = 11
  public static let maximumNodes = 200
  /// Labs live in 10.231.INDEX.0/24; the host (the head) is .1, node N is .(10 + N).
  public static let subnetPrefix: (UInt8, UInt8) = (10, 231)
  public static let firstNodeOffset = 10

  public var name: String
  public var index: Int
  public var stateDirectory: String
  public var nodes: [Node]

  public init(name: String, index: Int, nodeCount: Int, stateDirectory: String) {
    self.name = name
    self.index = index
    self.stateDirectory = stateDirectory
    let root = Self.directory(name: name, stateDirectory: stateDirectory)
    let width = max(2, String(nodeCount).count)
    nodes = (1...max(1, nodeCount)).map { number in
      let digits = String(number)
      let nodeName = "node" + String(repeating: "0", count: max(0, width - digits.count)) + digits
      let host = UInt32(Self.firstNodeOffset + number)
      return Node(
        number: number, name: nodeName,
        ip: IPv4Address(UInt32(Self.subnetPrefix.0) << 24 | UInt32(Self.subnetPrefix.1) << 16 | UInt32(index) << 8 | host),
        mac: MACAddress(bytes: [0x02, 0x50, 0x53, UInt8(index & 255), 0x00, UInt8(number & 255)])
          ?? MACAddress(bytes: [2, 0, 0, 0, 0, 1])!,
        namespace: "pslab-\(name)-\(nodeName)", port: "p\(number)", directory: "\(root)/nodes/\(nodeName)")
    }
    if nodeCount == 0 { nodes = [] }
  }

  public static func directory(name: String, stateDirectory: String) -> String { "\(stateDirectory)/labs/\(name)" }

  /// The kernel's neighbour (ARP) table is one for every network namespace, and holds 1,024
  /// entries by default (`gc_thresh3`). A swarm of N lab nodes needs up to N² of them (every
  /// node's gossip reaches every other one); past the limit the kernel drops new neighbours
  /// ("neighbour table overflow"), and joins end in "no route to host" or "failed to retrieve
  /// remote root CA certificate: context deadline exceeded" (32 of 100 nodes, every time, here).
  /// The thresholds (`gc_thresh1`, `2`, `3`) a lab of `nodes` wants, room left for other labs,
  /// never lower than `current`; nil when `current` is enough.
  public static func neighbourThresholds(nodes: Int, current: [Int]) -> [Int]? {
    let hard = 2 * nodes * nodes + 4096
    let wanted = [hard / 8, hard / 2, hard]
    guard current.count == 3, zip(wanted, current).contains(where: { $0 > $1 }) else { return nil }
    return zip(wanted, current).map { max($0, $1) }
  }

  public var directory: String { Self.directory(name: name, stateDirectory: stateDirectory) }
  /// The namespace holding the lab's bridge, so that its traffic never crosses the host's firewall.
  public var switchNamespace: String { "pslab-\(name)" }
  public var bridge: String { "br0" }
  /// The host's end of the link to the lab bridge: the cluster's head interface.
  public var hostInterface: String { "psl-\(name)" }
  public var headAddress: IPv4Interface {
    IPv4Interface(
      address: IPv4Address(UInt32(Self.subnetPrefix.0) << 24 | UInt32(Self.subnetPrefix.1) << 16 | UInt32(index) << 8 | 1),
      prefixLength: 24)
  }
  public var headMAC: MACAddress { MACAddress(bytes: [0x02, 0x50, 0x53, UInt8(index & 255), 0x00, 0x00]) ?? nodes[0].mac }
  /// cgroup folder (in each v1 hierarchy) that holds the lab's nodes and their containers.
  public var cgroup: String { "pslab-\(name)" }
  public var clusterFile: String { directory + "/cluster.yml" }
  public var stateFile: String { directory + "/lab.json" }
  public var keyPath: String { directory + "/id_ed25519" }
  public var knownHostsPath: String { directory + "/known_hosts" }
  public var baseImageTar: String { directory + "/base-image.tar" }

  public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

  /// Why `name` cannot name a lab, or nil.
  public static func problem(withName name: String) -> String? {
    guard HostName.isValid(name) else { return "a lab name may hold only lowercase letters, digits and '-'" }
    guard name.count <= maximumNameLength else { return "a lab name has at most \(maximumNameLength) characters" }
    return nil
  }
}
