/// What a real operating system (Raspberry Pi OS, Debian) in a node's root would do on a diskless
/// boot that breaks the node, and the changes to its root that prevent it. Decided by what the
/// root contains, never by the image's name or version: `Contents` is observed at the edge, the
/// changes are planned here. docs/netboot-roots.md lists each rule with the failure it prevents.
public enum NetbootOS {
  /// What piswarm looks for in a root. Each field is a fact about files in it.
  public struct Contents: Hashable, Sendable {
    /// `/usr/sbin/NetworkManager` exists.
    public var networkManager = false
    /// `/usr/bin/cloud-init` exists.
    public var cloudInit = false
    /// The content of `/etc/network/interfaces` (ifupdown), if the root has one.
    public var interfaces: String?
    /// systemd is the root's init (`/lib/systemd/systemd` exists).
    public var systemd = false
    /// Unit files the root ships, by name, among `knownUnits`, with their path inside the root.
    public var units: [String: String] = [:]
    /// Units enabled for multi-user.target (names of the links in its `.wants` folder), among
    /// `knownUnits`.
    public var enabled: Set<String> = []
    /// Units masked in /etc (a link to /dev/null), among `knownUnits`.
    public var masked: Set<String> = []

    public init(
      networkManager: Bool = false, cloudInit: Bool = false, interfaces: String? = nil, systemd: Bool = false,
      units: [String: String] = [:], enabled: Set<String> = [], masked: Set<String> = []
    ) {
      self.networkManager = networkManager
      self.cloudInit = cloudInit
      self.interfaces = interfaces
      self.systemd = systemd
      self.units = units
      self.enabled = enabled
      self.masked = masked
    }
  }

  /// A change to a root.
  public enum Change: Hashable, Sendable {
    /// Write this file (only when its content differs).
    case file(path: String, content: String, mode: UInt16)
    /// Make `path` a symbolic link to `target` (as the node resolves it).
    case link(path: String, target: String)
    /// Remove the file or link at `path`.
    case remove(path: String)

    public var path: String {
      switch self {
      case .file(let path, _, _), .link(let path, _), .remove(let path): path
      }
    }
  }

  /// Paths whose presence `Contents` records.
  public static let networkManagerBinary = "/usr/sbin/NetworkManager"
  public static let cloudInitBinary = "/usr/bin/cloud-init"
  public static let systemdBinary = "/lib/systemd/systemd"
  public static let interfacesFile = "/etc/network/interfaces"
  /// Where unit files are looked for, in the order systemd prefers them (package units).
  public static let unitFolders = ["/lib/systemd/system", "/usr/lib/systemd/system"]
  public static let wantsFolder = "/etc/systemd/system/multi-user.target.wants"

  /// The interface that carries a netbooted node's root. Raspberry Pi OS keeps the kernel's
  /// names (`eth0`); Debian's kernel on a Pi 4 names it `end0`.
  public static let bootInterfaces = ["eth0", "end0"]

  /// Swap on an NFS root: Raspberry Pi OS's swap file service (a file on NFS, or no space).
  public static let swapUnits = ["dphys-swapfile.service"]
  /// First-boot services of Raspberry Pi OS images that give a card new host keys or grow its
  /// partitions: on a root piswarm gave an identity they would break the pin.
  public static let firstBootUnits = ["regenerate_ssh_host_keys.service", "resize2fs_once.service"]
  /// The SSH server's unit (Raspberry Pi OS ships it disabled).
  public static let sshUnit = "ssh.service"
  public static var knownUnits: [String] { swapUnits + firstBootUnits + [sshUnit] }

  public static let networkManagerConf = "/etc/NetworkManager/conf.d/90-piswarm-netboot.conf"
  public static let cloudInitDisabled = "/etc/cloud/cloud-init.disabled"
  public static let journaldConf = "/etc/systemd/journald.conf.d/90-piswarm-netboot.conf"

  /// The changes that make a root with `contents` boot diskless as `node` (its MAC, if known,
  /// pins the interface for NetworkManager beside its name), in a stable order.
  public static func changes(for contents: Contents, node: String, mac: MACAddress?) -> [Change] {
    var changes: [Change] = []
    if contents.networkManager {
      changes.append(.file(path: networkManagerConf, content: networkManager(node: node, mac: mac), mode: 0o644))
    }
    if let interfaces = contents.interfaces {
      let kept = withoutBootInterfaces(interfaces, node: node)
      if kept != interfaces { changes.append(.file(path: interfacesFile, content: kept, mode: 0o644)) }
    }
    if contents.cloudInit {
      changes.append(.file(path: cloudInitDisabled, content: cloudInitDisabledFile(node: node), mode: 0o644))
    }
    if contents.systemd {
      changes.append(.file(path: journaldConf, content: journald(node: node), mode: 0o644))
      for unit in swapUnits + firstBootUnits where contents.units[unit] != nil {
        changes.append(.link(path: "/etc/systemd/system/" + unit, target: "/dev/null"))
        if contents.enabled.contains(unit) { changes.append(.remove(path: wantsFolder + "/" + unit)) }
      }
      if let ssh = contents.units[sshUnit] {
        if contents.masked.contains(sshUnit) { changes.append(.remove(path: "/etc/systemd/system/" + sshUnit)) }
        changes.append(.link(path: wantsFolder + "/" + sshUnit, target: ssh))
      }
    }
    return changes
  }

  /// NetworkManager must leave the boot interface alone: the address the initramfs configured
  /// carries the root, and any reconfiguration (a DHCP client of its own, a carrier check, a
  /// "Wired connection 1" that starts by flushing addresses) cuts the node off from it.
  public static func networkManager(node: String, mac: MACAddress?) -> String {
    let devices = (mac.map { ["mac:\($0)"] } ?? []) + bootInterfaces.map { "interface-name:\($0)" }
    return """
      # Written by piswarm for \(node): the root is on NFS over the boot interface, configured by
      # the kernel's initramfs. NetworkManager must never take it down or configure it again.
      [keyfile]
      unmanaged-devices=\(devices.joined(separator: ";"))

      """
  }

  /// cloud-init off: on a root piswarm gave its identity, cloud-init's first boot would delete
  /// and regenerate the SSH host keys (breaking the pin) and set the host name from a seed.
  public static func cloudInitDisabledFile(node: String) -> String {
    """
    # Written by piswarm for \(node): piswarm gave this root its identity (host name,
    # machine-id, SSH host keys); cloud-init must not make another.

    """
  }

  /// The journal in memory, capped: persistent journals would write through NFS all day.
  public static func journald(node: String) -> String {
    """
    # Written by piswarm for \(node): the root is on NFS; the journal stays in memory.
    [Journal]
    Storage=volatile
    RuntimeMaxUse=32M

    """
  }

  /// `interfaces` without the stanzas and `auto`/`allow-*` words for the boot interfaces
  /// (ifupdown would run a DHCP client on the interface that carries the root, and take it down
  /// at shutdown before the root is unmounted). Unchanged when none is there.
  public static func withoutBootInterfaces(_ interfaces: String, node: String) -> String {
    var lines: [String] = []
    var inBootStanza = false
    var removed = false
    var input = interfaces.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if input.last == "" { input.removeLast() }
    for line in input {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      let first = words.first ?? ""
      if ["iface", "mapping", "auto", "source", "source-directory"].contains(first) || first.hasPrefix("allow-") {
        inBootStanza = false
      }
      if first == "iface" || first == "mapping", words.count > 1, bootInterfaces.contains(words[1]) {
        inBootStanza = true
      }
      if inBootStanza {
        removed = true
        continue
      }
      if first == "auto" || first.hasPrefix("allow-") {
        let others = words.dropFirst().filter { !bootInterfaces.contains($0) }
        if others.count != words.count - 1 {
          removed = true
          if !others.isEmpty { lines.append(([first] + others).joined(separator: " ")) }
          continue
        }
      }
      lines.append(line)
    }
    guard removed else { return interfaces }
    let text = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    return text + "# piswarm (\(node)): the boot interface is the kernel's; the root is on NFS over it.\n"
  }

  /// Kernel command-line words meant for an SD card or a local disk: on a netbooted node they
  /// point the kernel or the initramfs at a partition that does not exist (`root=PARTUUID=…`,
  /// `rootwait` waiting for it), grow one (`resize`), or run Raspberry Pi OS's first boot,
  /// which regenerates host keys and machine-id (`init=/usr/lib/raspberrypi-sys-mods/firstboot`).
  public static func isSDOnly(_ word: String) -> Bool {
    let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
    switch name {
    case "root":
      return word != "root=/dev/nfs"
    case "rootwait", "resize", "rootfstype", "fsck.repair", "rootdelay", "fastboot", "forcefsck":
      return true
    case "init":
      return word.contains("raspberrypi-sys-mods") || word.hasSuffix("/firstboot") || word.contains("firstrun")
    case "systemd.run", "systemd.run_success_action", "ds":
      // firstrun.sh (`systemd.run=/boot/firstrun.sh …`) and a cloud-init NoCloud seed (`ds=nocloud`).
      return true
    default:
      return false
    }
  }
}
