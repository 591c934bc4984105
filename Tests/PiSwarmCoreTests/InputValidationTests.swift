import Testing

@testable import PiSwarmCore

/// Values of the cluster file that end up inside other files (NFS exports, dnsmasq's
/// configuration, the nodes' cmdline.txt and fstab, an SSH configuration) or that piswarm, as
/// root, makes folders in: each wrong one is an error where it is written.
@Suite struct InputValidationTests {
  typealias Case = ValidationTests.Case

  /// The base file with `lines` added to the head section, from line 7 on.
  static func head(_ lines: String) -> String { replacing("  lan: dhcp\n", with: "  lan: dhcp\n" + lines + "\n") }

  static let cases: [Case] = [
    // A tab or a space splits an exports line: "PATH\tX NODE(rw,…)" exports PATH to the world.
    Case(text: head("  nfs_root: \"/srv/nfs\\tx\""), location: "7:13", message: "head.nfs_root \"/srv/nfs\\tx\" holds a tab"),
    Case(text: head("  nfs_root: /srv/my nfs"), location: "7:13", message: "head.nfs_root \"/srv/my nfs\" holds a space"),
    Case(text: head("  nfs_root: \"/srv/nfs\\nx\""), location: "7:13", message: "holds a line break"),
    Case(
      text: head("  nfs_root: \"/srv/nfs\\e[2Kx\""), location: "7:13", message: "\"/srv/nfs\\x1b[2Kx\" holds a control character"),
    Case(text: head("  nfs_root: /srv/nfs,sec=sys"), location: "7:13", message: "holds a comma"),
    Case(text: head("  nfs_root: /srv/nfs#x"), location: "7:13", message: "holds '#'"),
    Case(text: head("  nfs_root: /srv/nfs/../../etc"), location: "7:13", message: "\"..\""),
    Case(text: head("  nfs_root: srv/nfs"), location: "7:13", message: "must be an absolute path"),
    // A comma changes the dnsmasq directive (tftp-root=PATH,INTERFACE).
    Case(text: head("  tftp_root: /srv/tftp,eth0"), location: "7:14", message: "head.tftp_root \"/srv/tftp,eth0\" holds a comma"),
    Case(text: head("  dnsmasq_conf: \"/etc/dnsmasq.d/a.conf\\nx\""), location: "7:17", message: "head.dnsmasq_conf"),
    // System folders.
    Case(text: head("  nfs_root: /"), location: "7:13", message: "head.nfs_root \"/\" is a system folder"),
    Case(text: head("  nfs_root: /etc/"), location: "7:13", message: "head.nfs_root \"/etc/\" is a system folder"),
    Case(text: head("  nfs_root: //var"), location: "7:13", message: "is a system folder"),
    Case(text: head("  tftp_root: /boot"), location: "7:14", message: "head.tftp_root \"/boot\" is a system folder"),
    Case(text: head("  tftp_root: /usr/lib"), location: "7:14", message: "is a system folder"),
    Case(text: head("  nfs_root: /proc/self/root"), location: "7:13", message: "inside /proc"),
    // One folder each.
    Case(
      text: head("  tftp_root: /srv/boot\n  nfs_root: /srv/boot/"), location: "8:13",
      message: "head.nfs_root \"/srv/boot/\" is head.tftp_root too"),
    Case(
      text: head("  nfs_root: /srv/pi\n  tftp_root: /srv/pi/tftp"), location: "8:14",
      message: "head.tftp_root \"/srv/pi/tftp\" is inside head.nfs_root"),
    Case(
      text: head("  tftp_root: /srv/pi\n  nfs_root: /srv/pi/nfs"), location: "8:13",
      message: "head.nfs_root \"/srv/pi/nfs\" is inside head.tftp_root"),
    Case(
      text: head("  dnsmasq_conf: /srv/piswarm/nfs/node01/etc/dnsmasq.conf"), location: "7:17",
      message: "is inside head.nfs_root"),
    // A single interface name: dnsmasq reads "*" as a wildcard and "eth1,lo" as two interfaces.
    Case(
      text: replacing("interface: eth1", with: "interface: \"*\""), location: "4:14",
      message: "head.interface \"*\" is not a single network interface name"),
    Case(
      text: replacing("interface: eth1", with: "interface: eth1,lo"), location: "4:14",
      message: "head.interface \"eth1,lo\" is not a single network interface name"),
    Case(text: replacing("interface: eth1", with: "interface: \"eth1\\t\""), location: "4:14", message: "head.interface"),
    // device: reaches the node's fstab.
    Case(
      text: replacing(
        "docker_storage: loopfile:8G", with: "docker_storage: \"device:/dev/sda1\\n/dev/sdb1 / ext4 defaults 0 0\""),
      location: "13:19", message: "holds a line break"),
    Case(
      text: replacing("docker_storage: loopfile:8G", with: "docker_storage: \"device:/dev/sda1\\t/x\""), location: "13:19",
      message: "holds a tab"),
    Case(
      text: replacing("docker_storage: loopfile:8G", with: "docker_storage: device:/dev/../etc/shadow"), location: "13:19",
      message: "\"..\""),
    // ssh.key goes on one line of an SSH configuration.
    Case(
      text: replacing("key: ~/.ssh/id_ed25519", with: "key: \"~/.ssh/id_ed25519\\nProxyCommand sh\""), location: "10:8",
      message: "ssh.key \"~/.ssh/id_ed25519\\nProxyCommand sh\" holds a line break"),
    Case(
      text: replacing("key: ~/.ssh/id_ed25519", with: "key: '~/.ssh/\"id'"), location: "10:8", message: "ssh.key"),
  ]

  @Test(arguments: cases)
  func reportsTheProblemWhereItIs(_ testCase: Case) {
    ValidationTests.expectLocated(testCase)
  }

  @Test(arguments: [
    "  nfs_root: /srv/piswarm/nfs\n  tftp_root: /srv/piswarm/tftp", "  nfs_root: /data/pi-roots/\n  tftp_root: /data/pi-boot",
    "  nfs_root: /var/lib/piswarm/nfs\n  tftp_root: /srv/tftp\n  dnsmasq_conf: /etc/dnsmasq.d/piswarm.conf",
    "  nfs_root: /tmp/lab-1/nfs\n  tftp_root: /tmp/lab-1/tftp",
  ])
  func ordinaryPathsPass(lines: String) {
    let decoded = decode(Self.head(lines))
    #expect(decoded.cluster != nil && decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
  }

  @Test(arguments: ["eth0", "enp0s31f6", "br-lan", "eth0.100", "wlan_1", "psl-a1b2c3d4e5f"])
  func ordinaryInterfacesPass(name: String) {
    let decoded = decode(replacing("interface: eth1", with: "interface: \(name)"))
    #expect(decoded.cluster != nil, "\(decoded.diagnostics)")
  }

  @Test(arguments: [
    "/dev/mmcblk0p3", "/dev/disk/by-uuid/0a1b-2c3d",
    "/dev/disk/by-path/platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0-scsi-0:0:0:0-part1",
  ])
  func ordinaryDevicesPass(path: String) throws {
    #expect(try DockerStorage.parse("device:" + path).get() == .device(path))
  }

  /// 70 lines of 4,096-node ranges would make 286,720 nodes (a gigabyte of memory): the reader
  /// stops at the range that crosses the cap, before expanding it.
  @Test func aTotalNodeCapStopsHugeFilesEarly() {
    var text =
      "name: big\nhead: {interface: eth0, address: 10.0.0.1/8}\ndefaults: {boot: preinstalled}\nswarm: {managers: 1}\nnodes:\n"
    for index in 0..<70 { text += "  - {name: \"r\(index)n[0000-4095]\", ip: 10.\(index + 1).0.1+}\n" }
    let started = ContinuousClock.now
    let decoded = decode(text)
    let elapsed = ContinuousClock.now - started
    #expect(decoded.cluster == nil)
    let cap = decoded.diagnostics.first { $0.message.contains("at most 10,000 nodes") }
    #expect(cap?.location.description == "8:12", "\(decoded.diagnostics.prefix(3))")
    #expect(decoded.diagnostics.count < 10, "one error, not one per range: \(decoded.diagnostics.count)")
    #expect(elapsed < .seconds(3), "took \(elapsed)")
  }

  @Test func singleEntriesCountTowardTheCapToo() {
    var text =
      "name: big\nhead: {interface: eth0, address: 10.0.0.1/8}\ndefaults: {boot: preinstalled}\nswarm: {managers: 1}\nnodes:\n"
    text += "  - {name: \"a[0001-4096]\", ip: 10.1.0.1+}\n  - {name: \"b[0001-4096]\", ip: 10.2.0.1+}\n"
    text += "  - {name: \"c[0001-1808]\", ip: 10.3.0.1+}\n"
    #expect(decode(text).cluster?.nodes.count == 10_000, "exactly the cap is fine")
    text += "  - {name: one-more, ip: 10.4.0.1}\n"
    #expect(decode(text).diagnostics.contains { $0.message.contains("at most 10,000 nodes") })
  }
}
