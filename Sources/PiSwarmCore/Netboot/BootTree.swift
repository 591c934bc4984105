/// The TFTP tree piswarm keeps under `head.tftp_root`, as a plain value: folders, files with their
/// content, and links to shared firmware. Planned here, applied by PiSwarmNetboot.
///
/// Each netboot node gets a folder named by its MAC (`b8-27-eb-12-34-56`, what dnsmasq's
/// `tftp-unique-root=mac` looks for) and, when its serial is known, one named by the serial
/// (`1a2b3c4d`, what a Pi 4/5 asks for when its MAC folder does not exist). Each holds the node's
/// own `cmdline.txt` and `config.txt` and links to the image's firmware files: hard links where
/// the applier can make them (a regular file on the TFTP root's filesystem), else symbolic links
/// out of the TFTP root, by absolute path, which dnsmasq 2.90 follows (measured: it serves a
/// symlink that leaves tftp-root, `tftp-secure` being off by default). The root holds nothing
/// else, so a machine without a folder gets no boot files.
public struct BootTree: Hashable, Sendable {
  public enum Entry: Hashable, Sendable {
    case directory(String)
    case file(String, content: String)
    case link(String, target: String)

    public var path: String {
      switch self {
      case .directory(let path), .file(let path, _), .link(let path, _): path
      }
    }
  }

  /// A node's folder and where it came from.
  public struct Folder: Hashable, Sendable, Codable {
    /// The folder's name under the TFTP root.
    public var name: String
    public var node: String
    /// `mac` or `serial`.
    public var by: String
  }

  /// The firmware of an image: its folder and the names in it.
  public struct Firmware: Hashable, Sendable {
    public var directory: String
    public var names: [String]

    public init(directory: String, names: [String]) {
      self.directory = directory
      self.names = names
    }
  }

  public var root: String
  public var folders: [Folder]
  /// In order: a folder before what it holds.
  public var entries: [Entry]
  /// Netboot nodes that get no folder (no MAC and no serial), with the reason.
  public var skipped: [(node: String, reason: String)]

  public static func == (lhs: BootTree, rhs: BootTree) -> Bool {
    lhs.root == rhs.root && lhs.folders == rhs.folders && lhs.entries == rhs.entries
      && lhs.skipped.map { [$0.node, $0.reason] } == rhs.skipped.map { [$0.node, $0.reason] }
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(root)
    hasher.combine(entries)
  }

  /// Per-node files, never linked from the firmware (a boot partition may carry a pending
  /// bootloader update of its own: only piswarm's `eeprom` updates are offered).
  public static let ownFiles: Set<String> = ["cmdline.txt", "config.txt", "pieeprom.upd", "pieeprom.sig", "recovery.bin"]

  /// The bootloader update files a Pi 4/5 fetches from its folder.
  public static let eepromFiles = ["pieeprom.sig", "pieeprom.upd"]

  /// The plan for `cluster`; `firmware` gives each node's firmware (nil: none yet, the folder
  /// gets only its own files); `eeprom` the folder of a node's pending bootloader update (nil:
  /// none), linked as `pieeprom.sig` and `pieeprom.upd`.
  public static func plan(
    _ cluster: Cluster, eeprom: (Node) throws(PiSwarmError) -> String? = { _ in nil }, firmware: (Node) -> Firmware?
  ) throws(PiSwarmError) -> BootTree {
    let root = cluster.head.tftpRoot.trimmingSuffix("/")
    var tree = BootTree(root: root, folders: [], entries: [], skipped: [])
    for node in NFSExports.netbootNodes(cluster) {
      var names: [(String, String)] = []
      if let mac = node.mac { names.append((mac.dashed, "mac")) }
      if let serial = node.serial { names.append((serial, "serial")) }
      if names.isEmpty {
        tree.skipped.append((node.name, "neither mac nor serial is known; 'piswarm discover --add' finds them"))
        continue
      }
      let cmdline = try BootFiles.cmdline(node, in: cluster)
      let config = BootFiles.config(node)
      let shared = firmware(node)
      let update = try eeprom(node)
      for (name, by) in names {
        let folder = root + "/" + name
        tree.folders.append(Folder(name: name, node: node.name, by: by))
        tree.entries.append(.directory(folder))
        tree.entries.append(.file(folder + "/cmdline.txt", content: cmdline))
        tree.entries.append(.file(folder + "/config.txt", content: config))
        if let shared {
          for file in shared.names.sorted() where !ownFiles.contains(file) && !file.hasPrefix(".") {
            try SingleLine.check(file, what: "the firmware file name")
            tree.entries.append(.link(folder + "/" + file, target: shared.directory.trimmingSuffix("/") + "/" + file))
          }
        }
        if let update {
          for file in eepromFiles { tree.entries.append(.link(folder + "/" + file, target: update + "/" + file)) }
        }
      }
    }
    return tree
  }

  /// A readable listing, one entry a line (for golden tests and `--json`-less output).
  public var listing: String {
    entries.map { entry in
      switch entry {
      case .directory(let path): "dir  \(path)/"
      case .file(let path, let content): "file \(path) (\(content.utf8.count) bytes)"
      case .link(let path, let target): "link \(path) -> \(target)"
      }
    }.joined(separator: "\n") + "\n"
  }
}
