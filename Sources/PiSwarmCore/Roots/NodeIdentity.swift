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

  /// systemd-networkd's rule that leaves the boot interface alone (`network`).
  public static let networkFile = "/etc/systemd/network/10-piswarm-eth0.network"

  /// The head's name in every node's /etc/hosts.
  public static let headName = "piswarm-head"

  /// The identity files with fixed content, path inside the root → (content, mode).
  public var files: [(path: String, content: String, mode: UInt16)] {
    var files: [(path: String, content: String, mode: UInt16)] = [
      ("/etc/hostname", hostname, 0o644),
      ("/etc/hosts", hosts, 0o644),
      ("/etc/fstab", fstab, 0o644),
      (Self.networkFile, network, 0o644),
      ("/root/.ssh/authorized_keys", authorizedKeys, 0o600),
    ]
    // With the fstab block, from the first boot: dockerd waits for its storage. Without it a
    // real OS starts dockerd on the NFS root before 'piswarm up' made the storage (overlay2
    // refuses NFS; Docker's state lands in the root). The same file 'up' writes.
    if let dropIn = DockerStorageLayout.systemdDropInText(dockerStorage) {
      files.append((DockerStorageLayout.systemdDropIn, dropIn, 0o644))
    }
    return files
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

  /// systemd-networkd leaves the boot interface alone: its address was configured by the
  /// initramfs and carries the root, and a DHCP client of networkd's own (or one that drops the
  /// address at shutdown) would cut the node off from it.
  public var network: String {
    """
    # Written by piswarm for \(node): the root is on NFS over this interface, configured by the
    # kernel's initramfs; networkd must not configure it again.
    [Match]
    Name=\(NetbootOS.bootInterfaces.joined(separator: " "))

    [Link]
    Unmanaged=yes

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
