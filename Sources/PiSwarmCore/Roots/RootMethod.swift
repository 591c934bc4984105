/// How a node's root is made from the image's base, best first.
public enum RootMethod: String, Sendable, Codable, CaseIterable {
  /// A btrfs snapshot of the base subvolume: instant, shares every extent.
  case snapshot
  /// overlayfs: the read-only base as lower layer, a per-node upper (index=on, nfs_export=on).
  case overlay
  /// `cp -a --reflink=always`: every file shares its extents with the base (xfs, btrfs).
  case reflink
  /// `cp -a`: a full copy; the last resort.
  case copy

  /// What the NFS root's filesystem offers, as found at the edge.
  public struct Capabilities: Hashable, Sendable {
    public var filesystem: String
    public var overlay: Bool
    public var reflink: Bool

    public init(filesystem: String, overlay: Bool, reflink: Bool) {
      self.filesystem = filesystem
      self.overlay = overlay
      self.reflink = reflink
    }
  }

  /// The best method `capabilities` allow: snapshot on btrfs, else overlay where the kernel has
  /// it and the filesystem can hold an upper layer, else reflink, else a full copy.
  public static func best(for capabilities: Capabilities) -> RootMethod {
    if capabilities.filesystem == "btrfs" { return .snapshot }
    if capabilities.overlay && Self.overlayUpperFilesystems.contains(capabilities.filesystem) { return .overlay }
    if capabilities.reflink { return .reflink }
    return .copy
  }

  /// Filesystems known to hold an overlay upper layer that can be exported (trusted xattrs,
  /// d_type, file handles).
  public static let overlayUpperFilesystems: Set<String> = ["ext4", "xfs", "btrfs"]

  /// Whether `method` can be used with `capabilities` (for an explicit `--method`).
  public static func problem(_ method: RootMethod, with capabilities: Capabilities) -> String? {
    switch method {
    case .snapshot:
      capabilities.filesystem == "btrfs" ? nil : "snapshots need btrfs; the NFS root is on \(capabilities.filesystem)"
    case .overlay:
      !capabilities.overlay
        ? "this kernel has no overlayfs"
        : Self.overlayUpperFilesystems.contains(capabilities.filesystem)
          ? nil
          : "an exportable overlay needs ext4, xfs or btrfs for its upper layer; the NFS root is on \(capabilities.filesystem)"
    case .reflink:
      capabilities.reflink ? nil : "\(capabilities.filesystem) does not share extents (reflink) here"
    case .copy: nil
    }
  }
}
