/// How a card's operating system takes its identity at first boot; chosen by what the image
/// carries, not by its release name (field-facts: SD cards and first boot).
public enum FirstBootFormat: String, Sendable, CaseIterable, Codable {
  /// cloud-init NoCloud files on the boot partition and ` ds=nocloud;i=ID` on the cmdline.
  case cloudInit = "cloud-init"
  /// `firstrun.sh` on the boot partition, run through `systemd.run=` (rpi-imager up to Bookworm).
  case firstrun

  /// cloud-init when the root has it, else firstrun.sh (which needs only systemd).
  public static func choose(rootHasCloudInit: Bool) -> FirstBootFormat { rootHasCloudInit ? .cloudInit : .firstrun }
}

/// A node's identity as files on its card: pure renderers for what `piswarm burn` writes to the
/// boot partition (FAT) and the root partition.
public struct CardIdentity: Sendable {
  public enum Address: Sendable, Hashable {
    /// From the cluster's DHCP server (piswarm's dnsmasq in `lan: dhcp`, a reservation).
    case dhcp
    /// Fixed, with a name server.
    case fixed(IPv4Interface, dns: IPv4Address)
  }

  public var node: String
  public var user: String
  /// The cluster's SSH public key line.
  public var authorizedKey: String
  /// The ed25519 host key piswarm made and pinned: the private key file's text and the public line.
  public var hostKey: String
  public var hostKeyPublic: String
  public var address: Address
  public var timezone: String
  /// The node's wired MAC, when the cluster file has it: the interface is matched by it.
  public var mac: MACAddress?
  /// A fresh cloud-init instance-id (`piswarm-NODE-RANDOM`).
  public var instanceID: String

  public init(
    node: String, user: String, authorizedKey: String, hostKey: String, hostKeyPublic: String, address: Address,
    timezone: String, mac: MACAddress? = nil, instanceID: String
  ) {
    self.node = node
    self.user = user
    self.authorizedKey = authorizedKey
    self.hostKey = hostKey
    self.hostKeyPublic = hostKeyPublic
    self.address = address
    self.timezone = timezone
    self.mac = mac
    self.instanceID = instanceID
  }

  /// Words piswarm owns on a card's cmdline.txt; removed before its own are added.
  static let ownedPrefixes = [
    "ds=nocloud", "systemd.run=", "systemd.run_success_action=", "cgroup_enable=memory", "cgroup_memory=",
  ]
  static let ownedWords: Set<String> = ["systemd.unit=kernel-command-line.target"]
  /// Docker needs the memory cgroup, which Pi kernels ship off.
  public static let memoryCgroup = ["cgroup_enable=memory", "cgroup_memory=1"]

  /// The card's cmdline.txt: the image's words (one line), without piswarm's earlier words, with
  /// the memory cgroup flags and the first-boot format's words.
  public func cmdline(from existing: String, format: FirstBootFormat) -> String {
    let line = existing.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    var words = line.split(separator: " ").map(String.init).filter { word in
      !Self.ownedWords.contains(word) && !Self.ownedPrefixes.contains { word.hasPrefix($0) }
    }
    words += Self.memoryCgroup
    switch format {
    case .cloudInit: words.append("ds=nocloud;i=\(instanceID)")
    case .firstrun:
      words += [
        "systemd.run=/boot/firmware/firstrun.sh", "systemd.run_success_action=reboot",
        "systemd.unit=kernel-command-line.target",
      ]
    }
    return words.joined(separator: " ") + "\n"
  }

  /// cloud-init's `meta-data`.
  public var metaData: String {
    "instance-id: \(YAMLText.scalar(instanceID))\nlocal-hostname: \(YAMLText.scalar(node))\n"
  }

  /// cloud-init's `user-data`: host name, the SSH user with the cluster key and no password, the
  /// pinned host key (the image's keys deleted; none generated when keys are given), time zone,
  /// SSH on.
  public var userData: String {
    var text = """
      #cloud-config
      # Written by piswarm burn for \(node): keys only, no password login.
      hostname: \(YAMLText.scalar(node))
      manage_etc_hosts: true
      timezone: \(YAMLText.scalar(timezone))
      ssh_pwauth: false
      ssh_deletekeys: true
      ssh_keys:
        ed25519_private: |

      """
    for line in hostKey.split(whereSeparator: \.isNewline) { text += "    \(line)\n" }
    text += "  ed25519_public: \(YAMLText.scalar(hostKeyPublic))\n"
    text += "disable_root: \(user == "root" ? "false" : "true")\n"
    text += "users:\n  - name: \(YAMLText.scalar(user))\n    lock_passwd: true\n"
    if user != "root" {
      text += "    shell: /bin/bash\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n    groups: [sudo]\n"
    }
    text += "    ssh_authorized_keys:\n      - \(YAMLText.scalar(authorizedKey))\n"
    // Once per instance, before dockerd starts (cloud-init's network stage runs before
    // network-online.target, which docker.service waits for): a card cloned from a captured node
    // drops that node's engine and swarm identity.
    text += "bootcmd:\n  - [cloud-init-per, instance, piswarm-cloned-engine, rm, -rf"
    text += Self.clonedEngineState.map { ", \($0)" }.joined() + "]\n"
    text += "runcmd:\n  - [systemctl, enable, --now, ssh]\n"
    return text
  }

  /// What a captured node's card carries that must not live on in its clones: its Docker engine
  /// ID (`key.json`), swarm node identity and certificates, networks and containers (whose files
  /// name its host). Images and volumes stay.
  public static let clonedEngineState = [
    "/var/lib/docker/swarm", "/var/lib/docker/containers", "/var/lib/docker/network", "/etc/docker/key.json",
  ]

  /// What firstrun.sh leaves on a node that a capture would carry to its clones and cloud-init
  /// would not replace: turning cloud-init off, and NetworkManager's connection holding the
  /// node's static address (autoconnect-priority 100: it beats cloud-init's, so every clone
  /// would come up on the captured node's address). Removed from a card burned with cloud-init.
  public static let firstrunLeftovers = [
    NetbootOS.cloudInitDisabled, "/etc/NetworkManager/system-connections/piswarm.nmconnection",
  ]

  /// cloud-init's `network-config` (netplan v2): `eth0`, Raspberry Pi OS's name for the wired
  /// interface, matched by the node's MAC and so named when the cluster file has the MAC (cloud-init
  /// 22's NetworkManager renderer takes the entry's name as the interface name, so no globs).
  public var networkConfig: String {
    var text = "network:\n  version: 2\n  ethernets:\n    eth0:\n"
    if let mac {
      text += "      match:\n        macaddress: \"\(mac.description)\"\n      set-name: eth0\n"
    }
    switch address {
    case .dhcp: text += "      dhcp4: true\n"
    case .fixed(let interface, let dns):
      text += "      dhcp4: false\n      addresses: [\(interface.description)]\n"
      text += "      nameservers:\n        addresses: [\(dns.description)]\n"
    }
    return text
  }

  /// `firstrun.sh`: the node's values as shell assignments, then Scripts/firstrun.sh.
  public var firstrunScript: String {
    var fixed = ""
    var dns = ""
    if case .fixed(let interface, let server) = address {
      fixed = interface.description
      dns = server.description
    }
    let values: [(String, String)] = [
      ("PISWARM_HOSTNAME", node), ("PISWARM_USER", user), ("PISWARM_AUTHORIZED_KEY", authorizedKey),
      ("PISWARM_HOST_KEY", hostKey.trimmingTrailingNewlines), ("PISWARM_HOST_KEY_PUB", hostKeyPublic),
      ("PISWARM_TIMEZONE", timezone), ("PISWARM_ADDRESS", fixed), ("PISWARM_DNS", dns),
      ("PISWARM_CLONED_STATE", Self.clonedEngineState.joined(separator: " ")),
    ]
    return "#!/bin/sh\n# Written by piswarm burn for \(node).\n"
      + values.map { "\($0.0)=\(Shell.quote($0.1))\n" }.joined() + RemoteScript.firstrun.text
  }

  /// `/etc/machine-id` for a card: a fresh one when the image carries one (a captured card),
  /// nil when the image's is empty (systemd makes one at first boot, as on a new image).
  public static func machineID(imageHas existing: String, fresh: String) -> String? {
    existing.trimmingCharacters(in: " \t\n\r").isEmpty ? nil : NodeIdentity.machineID(fresh)
  }
}

extension String {
  var trimmingTrailingNewlines: String {
    var text = self
    while text.hasSuffix("\n") { text.removeLast() }
    return text
  }
}
