/// nfs-ganesha's configuration for serving node roots: one export per node, read-write for that
/// node's address only (never `*` with root squash off), NFSv3 and v4 over TCP. The one ganesha
/// renderer: `NFSExports.ganesha` builds it from the cluster file.
public struct GaneshaRootExports: Hashable, Sendable {
  public struct Export: Hashable, Sendable {
    public var node: String
    /// The Export_Id; nil numbers the export by its place in the list, from 1 (0 is ganesha's
    /// pseudo root).
    public var id: Int?
    public var client: IPv4Address
    /// The root's path; the NFSv4 pseudo path is the same, so that v3 and v4 mount one path.
    public var path: String

    public init(node: String, id: Int? = nil, client: IPv4Address, path: String) {
      self.node = node
      self.id = id
      self.client = client
      self.path = path
    }
  }

  public var exports: [Export]
  /// Where NFSv4 client recovery state goes (ganesha's `RecoveryRoot`).
  public var recoveryRoot: String
  /// The address to listen on; nil listens on every address.
  public var bindAddress: IPv4Address?
  public var nfsPort: UInt16
  public var mountPort: UInt16

  public init(
    exports: [Export], recoveryRoot: String, bindAddress: IPv4Address? = nil, nfsPort: UInt16 = 2049,
    mountPort: UInt16 = 20048
  ) {
    self.exports = exports
    self.recoveryRoot = recoveryRoot
    self.bindAddress = bindAddress
    self.nfsPort = nfsPort
    self.mountPort = mountPort
  }

  /// The first line of every file this renders: how piswarm knows a ganesha.conf is its own.
  public static let header = "# Written by piswarm: the node roots, one export per node."

  /// The configuration file. `Mount_Path_Pseudo` lets NFSv3 mount by the same path as v4 (the
  /// Pi's initramfs mounts its root over v3); `Graceless` skips the 90 s grace period at start;
  /// `Only_Numeric_Owners` keeps uids as numbers on v4 (no idmapping on diskless nodes).
  public func render() -> String {
    var text = """
      \(Self.header)
      NFS_CORE_PARAM {
          Protocols = 3, 4;
          NFS_Port = \(nfsPort);
          MNT_Port = \(mountPort);
          Mount_Path_Pseudo = true;
          Enable_NLM = false;
          Enable_RQUOTA = false;

      """
    if let bindAddress { text += "    Bind_addr = \(bindAddress);\n" }
    text += """
      }

      NFSV4 {
          Graceless = true;
          Only_Numeric_Owners = true;
          RecoveryRoot = "\(recoveryRoot)";
      }

      """
    for (index, export) in exports.enumerated() {
      text += """

        # \(export.node)
        EXPORT {
            Export_Id = \(export.id ?? index + 1);
            Path = "\(export.path)";
            Pseudo = "\(export.path)";
            Protocols = 3, 4;
            Transports = TCP;
            SecType = sys;
            Access_Type = None;
            Squash = No_Root_Squash;
            FSAL { Name = VFS; }
            CLIENT {
                Clients = \(export.client);
                Access_Type = RW;
            }
        }

        """
    }
    return text
  }
}
