import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// Bootloader settings over the network: `netboot apply` writes the settings into the image the
/// user gave and links `pieeprom.upd` + `pieeprom.sig` into the Pi 4's folder; pi-bootrom, as a
/// Pi 4 bootloader, fetches both from it; once the node reports the settings (its
/// `bootloader_config` fact), the next apply takes the update away.
@Suite(.enabled(if: NetbootLab.shouldRun)) struct EEPROMIntegrationTests {
  static let subnet = NetbootLab.subnet

  @Test func aPi4FetchesItsBootloaderUpdateUntilItReportsTheSettings() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    let imagePath = lab.dir.file("pieeprom-2025-05-08.bin")
    try Data(TestEEPROM.image()).write(to: URL(fileURLWithPath: imagePath))
    lab.dir.write(
      "cluster.yml",
      """
      name: eeprom
      head:
        interface: br0
        address: \(Self.subnet).1/24
        lan: proxy
        tftp_root: \(lab.tftpRoot)
        nfs_root: /srv/piswarm/nfs
        dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))
      defaults:
        eeprom:
          pi4: \(imagePath)
          BOOT_ORDER: 0xf21
          TFTP_PREFIX: 0
      nodes:
        - name: node01
          ip: \(Self.subnet).41
          serial: 4a4b4c4d
          model: pi4
          eeprom: { NET_INSTALL_ENABLED: 0, TFTP_FILE_TIMEOUT: 60000 }

      """)
    func apply() throws -> Command.Output {
      let applied = try lab.piswarm([
        "netboot", "apply", "--files-only", "--no-roots", "--json", "--dnsmasq-option", "no-ping", "--firmware", lab.firmware,
      ])
      #expect(applied.status == 0, "\(applied.stderrText)")
      return applied
    }
    _ = try apply()
    let folder = lab.tftpRoot + "/4a4b4c4d"
    let upd = try #require(FileManager.default.contents(atPath: folder + "/pieeprom.upd"), "no pieeprom.upd in \(folder)")
    let sig = try #require(try? String(contentsOfFile: folder + "/pieeprom.sig", encoding: .utf8))
    // The update carries the settings (the node's over the defaults'), and the sig matches it.
    let wanted = [
      "BOOT_ORDER": "0xf21", "TFTP_PREFIX": "0", "NET_INSTALL_ENABLED": "0", "TFTP_FILE_TIMEOUT": "60000",
    ]
    let image = try BootloaderImage(Array(upd))
    #expect(EEPROMConfig.settings(in: image.bootConfig) == wanted)
    #expect(sig.hasPrefix(image.sha256 + "\nts: ") && sig.hasSuffix("\n"), "\(sig)")
    // Applied again, the same update (same time stamp): nothing rewritten.
    _ = try apply()
    #expect(try String(contentsOfFile: folder + "/pieeprom.sig", encoding: .utf8) == sig)

    try lab.addRouter()
    try lab.startHeadDnsmasq()
    let board = try lab.addBoard(1, mac: "dc:a6:32:00:00:41")
    let (boot, status) = try lab.boot(board, ["--model", "pi4", "--serial", "100000004a4b4c4d"])
    #expect(status == 0, "\(boot)")
    #expect(boot.prefix == "4a4b4c4d/", "\(boot.files)")
    let fetched = boot.files.filter { $0.kind == "selfUpdate" }
    #expect(fetched.map(\.name) == ["4a4b4c4d/pieeprom.sig", "4a4b4c4d/pieeprom.upd"], "\(boot.files)")
    #expect(fetched.first?.content == sig)
    #expect(fetched.last?.bytes == upd.count && fetched.last?.sha256 == image.sha256, "\(fetched)")

    // The node reports the settings (what 'piswarm facts' stores): the update is taken away.
    let store = try SQLiteStateStore(stateDirectory: lab.state)
    try store.setFacts(
      node: "node01",
      facts: [
        "bootloader_config": "[all];BOOT_UART=0;BOOT_ORDER=0xf21;TFTP_PREFIX=0;NET_INSTALL_ENABLED=0;TFTP_FILE_TIMEOUT=60000;"
      ],
      at: Date())
    _ = try apply()
    #expect(!Files.exists(folder + "/pieeprom.upd") && !Files.exists(folder + "/pieeprom.sig"))
    #expect((try? FileManager.default.contentsOfDirectory(atPath: lab.dir.file("eeprom")))?.isEmpty ?? true)
    let (after, _) = try lab.boot(board, ["--model", "pi4", "--serial", "100000004a4b4c4d"])
    #expect(after.file("pieeprom.sig")?.status == "not found", "\(after.files)")
    #expect(!after.files.contains { $0.kind == "selfUpdate" })
  }
}
