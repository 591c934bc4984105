import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// The rules that make a real operating system's root boot diskless (`NetbootOS`): each decided
/// by what the root contains, each file golden.
@Suite struct NetbootOSTests {
  // swift-format-ignore: NeverForceUnwrap
  static let mac = MACAddress("dc:a6:32:01:02:03")!

  /// Raspberry Pi OS Bookworm, as far as the rules look: NetworkManager, cloud-init (Trixie),
  /// ifupdown's file with eth0 on DHCP, systemd, dphys-swapfile enabled, ssh shipped disabled,
  /// the first-boot key regeneration enabled.
  static let piOS = NetbootOS.Contents(
    networkManager: true, cloudInit: true,
    interfaces:
      "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n",
    systemd: true,
    units: [
      "dphys-swapfile.service": "/lib/systemd/system/dphys-swapfile.service",
      "regenerate_ssh_host_keys.service": "/lib/systemd/system/regenerate_ssh_host_keys.service",
      "ssh.service": "/lib/systemd/system/ssh.service",
    ],
    enabled: ["dphys-swapfile.service", "regenerate_ssh_host_keys.service"])

  static func listing(_ changes: [NetbootOS.Change]) -> String {
    changes.map { change in
      switch change {
      case .file(let path, let content, let mode): "==> \(path) (mode \(String(mode, radix: 8)))\n\(content)"
      case .link(let path, let target): "==> link \(path) -> \(target)\n"
      case .remove(let path): "==> remove \(path)\n"
      }
    }.joined()
  }

  @Test func aRaspberryPiOSRootGetsEveryRuleMatchingGolden() {
    let changes = NetbootOS.changes(for: Self.piOS, node: "node01", mac: Self.mac)
    if let problem = Golden.check(Self.listing(changes), named: "netboot-os.txt") { Issue.record(Comment(rawValue: problem)) }
  }

  /// Each rule applies only when the root has what it is about.
  @Test(arguments: [
    (NetbootOS.Contents(), [String]()),
    (NetbootOS.Contents(networkManager: true), [NetbootOS.networkManagerConf]),
    (NetbootOS.Contents(cloudInit: true), [NetbootOS.cloudInitDisabled]),
    (NetbootOS.Contents(systemd: true), [NetbootOS.journaldConf]),
    (NetbootOS.Contents(interfaces: "auto lo\niface lo inet loopback\n"), []),
    (NetbootOS.Contents(interfaces: "auto eth0\niface eth0 inet dhcp\n"), [NetbootOS.interfacesFile]),
    (
      NetbootOS.Contents(systemd: true, units: ["dphys-swapfile.service": "/lib/systemd/system/dphys-swapfile.service"]),
      [NetbootOS.journaldConf, "/etc/systemd/system/dphys-swapfile.service"]
    ),
    (
      NetbootOS.Contents(
        systemd: true, units: ["ssh.service": "/usr/lib/systemd/system/ssh.service"], enabled: ["ssh.service"],
        masked: ["ssh.service"]),
      [NetbootOS.journaldConf, "/etc/systemd/system/ssh.service", NetbootOS.wantsFolder + "/ssh.service"]
    ),
    // Units matter only with systemd as init.
    (NetbootOS.Contents(units: ["dphys-swapfile.service": "/lib/systemd/system/dphys-swapfile.service"]), []),
  ])
  func eachRuleOnlyWhereItsSubjectIs(_ contents: NetbootOS.Contents, _ paths: [String]) {
    #expect(NetbootOS.changes(for: contents, node: "node01", mac: nil).map(\.path) == paths)
  }

  @Test func sshIsEnabledByALinkToItsOwnUnitAndAMaskIsRemoved() {
    let contents = NetbootOS.Contents(
      systemd: true, units: ["ssh.service": "/usr/lib/systemd/system/ssh.service"], masked: ["ssh.service"])
    let changes = NetbootOS.changes(for: contents, node: "node01", mac: nil)
    #expect(changes.contains(.remove(path: "/etc/systemd/system/ssh.service")))
    #expect(changes.contains(.link(path: NetbootOS.wantsFolder + "/ssh.service", target: "/usr/lib/systemd/system/ssh.service")))
  }

  @Test func networkManagerLeavesTheBootInterfaceByNameAndByMAC() {
    #expect(
      NetbootOS.networkManager(node: "n", mac: Self.mac).contains(
        "unmanaged-devices=mac:dc:a6:32:01:02:03;interface-name:eth0;interface-name:end0\n"))
    #expect(NetbootOS.networkManager(node: "n", mac: nil).contains("unmanaged-devices=interface-name:eth0;interface-name:end0\n"))
  }

  @Test(arguments: [
    // Debian's and Raspberry Pi OS's shapes: the eth0 stanza and its allow-hotplug go.
    (
      "auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n",
      "auto lo\niface lo inet loopback\n\n# piswarm (n): the boot interface is the kernel's; the root is on NFS over it.\n"
    ),
    // One auto line for several: only the boot interfaces leave it; the stanza's options go too.
    (
      "auto lo eth0 wlan0\niface eth0 inet static\n  address 10.0.0.5/24\niface wlan0 inet dhcp\n",
      "auto lo wlan0\niface wlan0 inet dhcp\n# piswarm (n): the boot interface is the kernel's; the root is on NFS over it.\n"
    ),
    ("auto end0\niface end0 inet6 auto\n", "# piswarm (n): the boot interface is the kernel's; the root is on NFS over it.\n"),
    // Nothing about the boot interface: unchanged, byte for byte.
    ("auto lo\niface lo inet loopback", "auto lo\niface lo inet loopback"),
    ("source /etc/network/interfaces.d/*\n", "source /etc/network/interfaces.d/*\n"),
  ])
  func ifupdownLosesTheBootInterface(_ input: String, _ expected: String) {
    #expect(NetbootOS.withoutBootInterfaces(input, node: "n") == expected)
  }

  @Test(arguments: [
    ("root=PARTUUID=5049535a-02", true), ("root=/dev/mmcblk0p2", true), ("root=/dev/nfs", false), ("rootwait", true),
    ("resize", true), ("rootfstype=ext4", true), ("fsck.repair=yes", true),
    ("init=/usr/lib/raspberrypi-sys-mods/firstboot", true), ("init=/bin/sh", false), ("systemd.run=/boot/firstrun.sh", true),
    ("ds=nocloud;i=abc", true), ("quiet", false), ("console=serial0,115200", false), ("cgroup_enable=memory", false),
    ("nfsroot=10.0.0.1:/srv/x,nfsvers=3,tcp", false), ("ip=dhcp", false), ("rw", false),
  ])
  func sdOnlyWords(_ word: String, _ sdOnly: Bool) {
    #expect(NetbootOS.isSDOnly(word) == sdOnly)
  }

  @Test func theRenderedNetbootCommandLineHasNoSDOnlyWord() throws {
    let decoded = ClusterFile.decode(
      text: """
        name: t
        head: { interface: eth1, address: 10.42.0.250/24 }
        defaults: { boot: netboot }
        nodes:
          - { name: node01, ip: 10.42.0.1, mac: "b8:27:eb:00:00:01" }
        """)
    let cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    let line = try BootFiles.cmdline(cluster.nodes[0], in: cluster)
    let sdOnly = line.split(whereSeparator: \.isWhitespace).filter { NetbootOS.isSDOnly(String($0)) }
    #expect(sdOnly.isEmpty, "\(line)")
    #expect(line.contains("root=/dev/nfs "))
  }
}
