/// Where the pieces of node roots live under the head's NFS root. Node names are host names,
/// which cannot start with '.', so the dot-folders never collide with a node's root.
public struct RootLayout: Hashable, Sendable {
  public var nfsRoot: String

  public init(nfsRoot: String) { self.nfsRoot = nfsRoot }

  /// `NFS_ROOT/NODE`: what the node mounts as `/`.
  public func root(_ node: String) -> String { "\(nfsRoot)/\(node)" }
  /// `NFS_ROOT/.base/IMAGE`: the image's base as a read-only btrfs subvolume or a tree, which
  /// snapshots and copies are made from.
  public func base(_ image: String) -> String { "\(nfsRoot)/.base/\(image)" }
  /// `NFS_ROOT/.lower/IMAGE`: where the image's root.ext4 is loop-mounted read-only as the
  /// lower layer of overlay roots.
  public func lower(_ image: String) -> String { "\(nfsRoot)/.lower/\(image)" }
  /// Where `method` finds the image's files.
  public func source(_ image: String, method: RootMethod) -> String {
    method == .overlay ? lower(image) : base(image)
  }
  /// `NFS_ROOT/.upper/NODE`: an overlay node's upper and work folders.
  public func upper(_ node: String) -> String { "\(nfsRoot)/.upper/\(node)/upper" }
  public func work(_ node: String) -> String { "\(nfsRoot)/.upper/\(node)/work" }

  /// Mount options of a node's overlay. index=on and nfs_export=on make it exportable; xino=on
  /// gives every file the overlay's device number: the lower layer (a loop mount) and the upper
  /// are different filesystems, and without it nfs-ganesha answers a lookup of any file with
  /// NFS4ERR_XDEV.
  public func overlayOptions(image: String, node: String) -> String {
    Self.overlayOptions(lower: lower(image), upper: upper(node), work: work(node))
  }

  public static func overlayOptions(lower: String, upper: String, work: String) -> String {
    "lowerdir=\(lower),upperdir=\(upper),workdir=\(work),index=on,nfs_export=on,xino=on"
  }
}
