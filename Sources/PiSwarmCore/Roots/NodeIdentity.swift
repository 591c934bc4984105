/// The files that make a cloned root one node's own. Every one is rendered here, purely; the
/// random parts (machine-id, host keys) are made at the edge and passed in.
public struct NodeIdentity: Hashable, Sendable {
  public var node: String
  public var ip: IPv4Address
  public var headIP: IPv4Address
  /// The folder under the head's NFS root that is this node's root (`NFS_ROOT/NODE`).
  public var nfsPath: String
  /// The cluster's SSH public key line (`ssh-ed25519 AAAA… comment`).
  public var authorizedKey: String
  /// Docker's storage: its fstab block is part of the node's fstab, exactly as 'piswarm up'
  /// writes it, so that neither command undoes the other.
  public var dockerStorage: DockerStorage

  public init(
    node: String, ip: IPv4Address, headIP: IPv4Address, nfsPath: String, authorizedKey: String,
    dockerStorage: DockerStorage = .root
  ) {
    self.node = node
    self.ip = ip
    self.headIP = headIP
    self.nfsPath = nfsPath
    self.authorizedKey = authorizedKey
    self.dockerStorage = dockerStorage
  }

  /// The head's name in every node's /etc/hosts.
  public static let headName = "piswarm-head"

  /// The identity files with fixed content, path inside the root → (content, mode).
  public var files: [(path: String, content: String, mode: UInt16)] {
    [
      ("/etc/hostname", hostname, 0o644),
      ("/etc/hosts", hosts, 0o644),
      ("/etc/fstab", fstab, 0o644),
      ("/etc/systemd/network/10-piswarm-eth0.network", network, 0o644),
      ("/root/.ssh/authorized_keys", authorizedKeys, 0o600),
    ]
  }

  public var hostname: String { node + "\n" }

  public var hosts: String {
    """
    # Written by piswarm for \(node).
    127.0.0.1\tlocalhost
    ::1\tlocalhost ip6-localhost ip6-loopback
    ff02::1\tip6-allnodes
    ff02::2\tip6-allrouters

    \(ip)\t\(node)
    \(headIP)\t\(Self.headName)

    """
  }

  /// Root on NFSv3 over TCP from the head (Raspberry Pi OS's initramfs rejects NFSv4 roots).
  public var fstab: String {
    let own = """
      # Written by piswarm for \(node): the root is NFS from the head.
      proc\t/proc\tproc\tdefaults\t0\t0
      \(headIP):\(nfsPath)\t/\tnfs\tdefaults,nfsvers=3,tcp,noatime\t0\t0

      """
    return DockerStorageLayout.fstab(existing: own, storage: dockerStorage)
  }

  /// DHCP on eth0 through systemd-networkd. KeepConfiguration keeps the address the kernel got
  /// at boot: dropping it would cut the node off from its own root.
  public var network: String {
    """
    # Written by piswarm for \(node).
    [Match]
    Name=eth0

    [Network]
    DHCP=ipv4
    KeepConfiguration=yes

    """
  }

  public var authorizedKeys: String {
    let key = authorizedKey.trimmingCharacters(in: " \t\n\r")
    return "# piswarm's cluster key\n\(key)\n"
  }

  /// `/etc/machine-id`: 32 lowercase hex digits and a newline.
  public static func machineID(_ hex: String) -> String { hex + "\n" }

  /// Whether `text` is a machine-id as systemd writes it.
  public static func isMachineID(_ text: String) -> Bool {
    let id = text.trimmingCharacters(in: "\n")
    return id.utf8.count == 32 && id.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
      && id != String(repeating: "0", count: 32)
  }

  /// The line pinning a node's host key in piswarm's known_hosts (the key parsed strictly).
  public static func knownHostsLine(ip: IPv4Address, key: SSHHostKey) -> String {
    key.knownHostsLine(host: ip.description)
  }

  /// Files of the base image that must not be shared between nodes: they are removed.
  public static let removedFromBase = [
    "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ecdsa_key.pub", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub",
    "/etc/ssh/ssh_host_dsa_key", "/etc/ssh/ssh_host_dsa_key.pub", "/var/lib/dbus/machine-id",
  ]
}

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
