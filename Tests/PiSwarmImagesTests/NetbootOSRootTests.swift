import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// `root make` on a root shaped like Raspberry Pi OS (merged /usr, NetworkManager, cloud-init,
/// ifupdown's eth0, dphys-swapfile enabled, ssh disabled, the first boot's key regeneration, SD
/// partitions in fstab): every rule of `NetbootOS` lands in the root, decided by what it holds,
/// and a second run writes nothing.
@Suite struct NetbootOSRootTests {
  let folder = TemporaryDirectory("piswarm-realos-root")
  let sentinel = SentinelTree()
  var nfsRoot: String { folder.file("nfs") }
  var root: String { nfsRoot + "/node01" }
  var maker: RootMaker { RootMaker(nfsRoot: nfsRoot, stateDirectory: folder.file("state")) }
  // swift-format-ignore: NeverForceUnwrap
  let node = Node(name: "node01", mac: MACAddress("dc:a6:32:01:02:03")!, ip: IPv4Address("10.42.0.1")!)
  // swift-format-ignore: NeverForceUnwrap
  let head = IPv4Address("10.42.0.250")!
  let clusterKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf cluster\n"

  init() throws {
    let files: [String: String] = [
      "usr/sbin/NetworkManager": "", "usr/bin/cloud-init": "", "usr/lib/systemd/systemd": "",
      "usr/lib/systemd/system/ssh.service": "[Unit]\n", "usr/lib/systemd/system/dphys-swapfile.service": "[Unit]\n",
      "usr/lib/systemd/system/regenerate_ssh_host_keys.service": "[Unit]\n",
      "etc/network/interfaces": "auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n",
      "etc/fstab": "proc /proc proc defaults 0 0\nPARTUUID=5049535a-01 /boot/firmware vfat defaults 0 2\n",
      "etc/hostname": "raspberrypi\n",
    ]
    try FileTree.write(files, under: root)
    // Merged /usr, relative as Debian makes it; units enabled by absolute links.
    try FileManager.default.createSymbolicLink(atPath: root + "/lib", withDestinationPath: "usr/lib")
    try FileManager.default.createSymbolicLink(atPath: root + "/sbin", withDestinationPath: "usr/sbin")
    let wants = root + "/etc/systemd/system/multi-user.target.wants"
    try FileManager.default.createDirectory(atPath: wants, withIntermediateDirectories: true)
    for unit in ["dphys-swapfile.service", "regenerate_ssh_host_keys.service"] {
      try FileManager.default.createSymbolicLink(atPath: wants + "/" + unit, withDestinationPath: "/lib/systemd/system/" + unit)
    }
  }

  func make() throws -> RootResult {
    try maker.make(node: node, image: "pios", method: .copy, headIP: head, authorizedKey: clusterKey)
  }

  /// Every file and link under the root's /etc that the rules are about, as the node sees it.
  func rendered() -> String {
    let paths = [
      NetbootOS.networkManagerConf, NetbootOS.cloudInitDisabled, NetbootOS.journaldConf, NetbootOS.interfacesFile,
      "/etc/systemd/network/10-piswarm-eth0.network", "/etc/fstab",
      "/etc/systemd/system/dphys-swapfile.service", "/etc/systemd/system/regenerate_ssh_host_keys.service",
      NetbootOS.wantsFolder + "/dphys-swapfile.service", NetbootOS.wantsFolder + "/regenerate_ssh_host_keys.service",
      NetbootOS.wantsFolder + "/ssh.service",
    ]
    return paths.map { path in
      if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: root + path) {
        return "==> link \(path) -> \(target)\n"
      }
      guard let text = try? String(contentsOfFile: root + path, encoding: .utf8) else { return "==> absent \(path)\n" }
      return "==> \(path)\n\(text)"
    }.joined().replacingOccurrences(of: folder.path, with: "TMP")
  }

  @Test func aRaspberryPiOSRootIsMadeFitToNetbootMatchingGolden() throws {
    let first = try make()
    if let problem = Golden.check(rendered(), named: "netboot-os-root.txt") { Issue.record(Comment(rawValue: problem)) }
    for path in [NetbootOS.networkManagerConf, NetbootOS.cloudInitDisabled, NetbootOS.journaldConf, NetbootOS.interfacesFile] {
      #expect(first.changed.contains(path), "\(path) not reported: \(first.changed)")
    }
    #expect(first.changed.contains("/etc/systemd/system/dphys-swapfile.service"))
    #expect(first.changed.contains(NetbootOS.wantsFolder + "/ssh.service"))
    let fstab = try String(contentsOfFile: root + "/etc/fstab", encoding: .utf8)
    #expect(!fstab.contains("PARTUUID="), "the SD card's partitions stay out of fstab: \(fstab)")

    let second = try make()
    #expect(second.changed.isEmpty, "a second run changed \(second.changed)")
  }

  /// `/etc/NetworkManager` and `/etc/systemd` as absolute links to the head's folders (the
  /// sentinel's): the rules' files land inside the root, where the node resolves those links.
  @Test func theRulesNeverWriteThroughALinkOutOfTheRoot() throws {
    let before = sentinel.fingerprint()
    for name in ["NetworkManager", "cloud"] {
      try FileManager.default.createSymbolicLink(atPath: root + "/etc/" + name, withDestinationPath: sentinel.file("etc"))
      try FileManager.default.createDirectory(atPath: root + sentinel.file("etc"), withIntermediateDirectories: true)
    }
    _ = try make()
    #expect(sentinel.fingerprint() == before, "the head's files changed")
    #expect(FileManager.default.fileExists(atPath: root + sentinel.file("etc/conf.d/90-piswarm-netboot.conf")))
    #expect(FileManager.default.fileExists(atPath: root + sentinel.file("etc/cloud-init.disabled")))
  }
}
