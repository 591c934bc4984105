import PiSwarmCore
import PiSwarmTestSupport
import Testing

/// The files `piswarm burn` puts on a card for a node's first boot, rendered purely.
@Suite struct CardIdentityTests {
  static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0dWIgY2x1c3RlciBrZXkgZm9yIHRlc3Rz piswarm@head"
  static let hostKey = """
    -----BEGIN OPENSSH PRIVATE KEY-----
    b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
    not-a-real-key
    -----END OPENSSH PRIVATE KEY-----

    """

  func identity(user: String = "pi", address: CardIdentity.Address = .dhcp, mac: MACAddress? = nil) -> CardIdentity {
    CardIdentity(
      node: "node07", user: user, authorizedKey: Self.key, hostKey: Self.hostKey,
      hostKeyPublic: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhvc3Qga2V5IG9mIG5vZGUwNw root@node07",
      address: address, timezone: "Europe/Berlin", mac: mac, instanceID: "piswarm-node07-0123456789ab")
  }

  static let fixed = CardIdentity.Address.fixed(
    IPv4Interface(address: IPv4Address("10.0.0.17")!, prefixLength: 24), dns: IPv4Address("10.0.0.1")!)

  @Test func cloudInitFiles() {
    #expect(Golden.check(identity().userData, named: "card-user-data") == nil)
    #expect(Golden.check(identity(user: "root").userData, named: "card-user-data-root") == nil)
    #expect(Golden.check(identity().metaData, named: "card-meta-data") == nil)
    #expect(Golden.check(identity().networkConfig, named: "card-network-config-dhcp") == nil)
    #expect(
      Golden.check(
        identity(address: Self.fixed, mac: MACAddress("dc:a6:32:00:00:07")).networkConfig, named: "card-network-config-fixed")
        == nil)
  }

  @Test func firstrunScript() {
    #expect(Golden.check(identity(address: Self.fixed).firstrunScript, named: "card-firstrun.sh") == nil)
  }

  /// The image's words stay; piswarm's earlier words (a card burned before, a captured card)
  /// are replaced, never doubled; the memory cgroup flags are always there.
  @Test(arguments: [
    (
      "console=serial0,115200 root=PARTUUID=5049535a-02 rootwait quiet\n", FirstBootFormat.cloudInit,
      "console=serial0,115200 root=PARTUUID=5049535a-02 rootwait quiet cgroup_enable=memory cgroup_memory=1 ds=nocloud;i=piswarm-node07-0123456789ab\n"
    ),
    (
      "root=PARTUUID=x rootwait cgroup_enable=memory cgroup_memory=1 ds=nocloud;i=old systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n",
      .firstrun,
      "root=PARTUUID=x rootwait cgroup_enable=memory cgroup_memory=1 systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n"
    ),
  ])
  func cmdline(existing: String, format: FirstBootFormat, expected: String) {
    #expect(identity().cmdline(from: existing, format: format) == expected)
  }

  @Test func machineIDIsFreshOnlyWhenTheImageHasOne() {
    #expect(CardIdentity.machineID(imageHas: "\n", fresh: "ab") == nil)
    #expect(CardIdentity.machineID(imageHas: "0123\n", fresh: "ab") == "ab\n")
  }

  @Test func formatFollowsTheImage() {
    #expect(FirstBootFormat.choose(rootHasCloudInit: true) == .cloudInit)
    #expect(FirstBootFormat.choose(rootHasCloudInit: false) == .firstrun)
  }

  @Test func burnProgressLine() {
    #expect(
      ProgressLine.burn(device: "sdb", phase: "write", fraction: 0.5, bytes: 100 << 20, seconds: 10)
        == "sdb write 50%  100.0 MiB  10.5 MB/s  ETA 0:10")
  }
}
