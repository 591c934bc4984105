import Crypto
import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// `eeprom:`: settings checked, `bootconf.txt` rendered, written into a bootloader image in the
/// image's own section format, read back, and signed as the bootloader's self-update wants.
@Suite struct EEPROMTests {
  static func image() -> [UInt8] { TestEEPROM.image() }

  static let wanted = EEPROMConfig(
    settings: [
      "BOOT_ORDER": "0xf21", "TFTP_PREFIX": "0", "NET_INSTALL_ENABLED": "0", "POWER_OFF_ON_HALT": "1",
      "TFTP_FILE_TIMEOUT": "60000", "TFTP_IP": "10.42.0.250",
    ])

  @Test func theBootConfigurationIsRenderedBootOrderFirst() {
    #expect(Golden.check(Self.wanted.bootConf, named: "bootconf.txt") == nil)
  }

  @Test func writtenIntoTheImageItReadsBackTheSame() throws {
    let original = Self.image()
    let image = try BootloaderImage(original)
    #expect(image.bootConfig == "[all]\nBOOT_UART=0\nBOOT_ORDER=0xf41\n")
    let updated = try image.replacingBootConfig(Self.wanted.bootConf)
    // Round trip: the .upd parses back to the same settings.
    let reread = try BootloaderImage(updated.bytes)
    #expect(reread.bootConfig == Self.wanted.bootConf)
    #expect(EEPROMConfig.settings(in: reread.bootConfig) == Self.wanted.settings)
    #expect(Self.wanted.isReported(by: reread.bootConfig))
    // Only the configuration changed: the code before, the next file after are the same bytes.
    #expect(updated.bytes.count == original.count)
    let (code, next) = (TestEEPROM.code, TestEEPROM.next)
    #expect(updated.bytes[0..<code] == original[0..<code])
    #expect(updated.bytes[next...] == original[next...])
    // The space up to the next file is a padding section of erased flash: the chain still parses.
    let end = code + 24 + Self.wanted.bootConf.utf8.count
    let padAt = (end + 7) & ~7
    #expect(BootloaderImage.word(updated.bytes, padAt) == 0x55aa_feef)
    #expect(Int(BootloaderImage.word(updated.bytes, padAt + 4)) == next - padAt - 8)
    #expect(updated.bytes[(padAt + 8)..<next].allSatisfy { $0 == 0xff })
    #expect(reread.sections.map(\.name) == [nil, "bootconf.txt", nil, "pubkey.bin"])
    #expect(reread.sections.map(\.offset) == [0, code, padAt, next])
    // Written again, nothing changes.
    #expect(try reread.replacingBootConfig(Self.wanted.bootConf) == reread)
    // A shorter configuration leaves no trace of the longer one.
    let short = try reread.replacingBootConfig("[all]\nBOOT_ORDER=0xf1\n")
    #expect(short.bootConfig == "[all]\nBOOT_ORDER=0xf1\n")
    #expect(!String(decoding: short.bytes[TestEEPROM.code..<TestEEPROM.next], as: UTF8.self).contains("TFTP"))
  }

  @Test func theSignatureIsTheSha256AndATimeStamp() throws {
    let bytes = try BootloaderImage(Self.image()).replacingBootConfig(Self.wanted.bootConf).bytes
    let sig = BootloaderImage.signature(bytes, timestamp: 1_764_000_000)
    #expect(sig == "\(SHA256.hex(bytes))\nts: 1764000000\n")
    #expect(sig.split(separator: "\n").first?.count == 64)
  }

  @Test func imagesThatAreNotBootloadersAreRefused() {
    #expect(throws: PiSwarmError.self) { try BootloaderImage([UInt8](repeating: 0xff, count: 1000)) }
    var corrupt = Self.image()
    corrupt[TestEEPROM.code] = 0x12
    #expect(throws: PiSwarmError.self) { try BootloaderImage(corrupt) }
    var noConfig = Self.image()
    noConfig.replaceSubrange(TestEEPROM.code..<(512 * 1024), with: [UInt8](repeating: 0xff, count: 512 * 1024 - TestEEPROM.code))
    #expect(throws: PiSwarmError.self) { try BootloaderImage(noConfig) }
    let big = EEPROMConfig(settings: ["TFTP_PREFIX_STR": String(repeating: "x", count: 2100)])
    #expect(throws: PiSwarmError.self) { try BootloaderImage(Self.image()).replacingBootConfig(big.bootConf) }
  }

  @Test(
    arguments: [
      ("BOOT_ORDER", "0xf21", nil),
      ("BOOT_ORDER", "0xF12", nil),
      ("BOOT_ORDER", "0xf25416", nil),
      ("BOOT_ORDER", "f21", "BOOT_ORDER \"f21\" is 0x and 1 to 8 hex digits"),
      ("BOOT_ORDER", "0x", "BOOT_ORDER \"0x\" is 0x and 1 to 8 hex digits"),
      ("BOOT_ORDER", "0xf2111111111", "BOOT_ORDER \"0xf2111111111\" is 0x and 1 to 8 hex digits"),
      ("BOOT_ORDER", "0xf9", "BOOT_ORDER \"0xf9\": 9 is not a boot mode"),
      ("BOOT_ORDER", "0xfg", "BOOT_ORDER \"0xfg\": g is not a boot mode"),
      ("TFTP_PREFIX", "3", "TFTP_PREFIX is one of 0, 1, 2"),
      ("TFTP_IP", "10.42.0.300", "TFTP_IP is an IPv4 address"),
      ("NET_INSTALL_ENABLED", "yes", "NET_INSTALL_ENABLED is 0 or 1"),
      ("TFTP_FILE_TIMEOUT", "30s", "TFTP_FILE_TIMEOUT is a number"),
      ("TFTP_FILE_TIMEOUT", "0x7530", nil),
      ("BOOT_ORDERS", "0xf21", "BOOT_ORDERS is not a bootloader setting piswarm knows"),
    ] as [(String, String, String?)])
  func settingsAreChecked(key: String, value: String, problem: String?) {
    let found = EEPROMConfig.problem(key: key, value: value)
    if let problem {
      #expect(found?.hasPrefix(problem) == true, "\(found ?? "nil")")
    } else {
      #expect(found == nil)
    }
  }

  static func decoded(defaults: String, node: String = "") -> ClusterFile.Decoded {
    decode(
      replacing("  docker_storage: loopfile:8G\n", with: "  docker_storage: loopfile:8G\n" + defaults)
        .replacing("    model: pi4\n", with: "    model: pi4\n" + node))
  }

  @Test func theClusterFileCarriesItFromDefaultsToPiNodes() throws {
    let decoded = Self.decoded(
      defaults: "  eeprom:\n    pi4: /srv/eeprom/pieeprom-2025-05-08.bin\n    BOOT_ORDER: 0xf21\n    TFTP_PREFIX: 0\n",
      node: "    eeprom: { BOOT_ORDER: 0xf12, NET_INSTALL_ENABLED: 0 }\n")
    let cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    let node01 = try #require(cluster.node(named: "node01"))
    #expect(node01.eeprom.settings == ["BOOT_ORDER": "0xf12", "TFTP_PREFIX": "0", "NET_INSTALL_ENABLED": "0"])
    #expect(node01.eeprom.images == [.pi4: "/srv/eeprom/pieeprom-2025-05-08.bin"])
  }

  @Test(arguments: [
    ("  eeprom:\n    BOOT_ORDERS: 0xf21\n", "", "unknown key \"BOOT_ORDERS\" in defaults.eeprom"),
    ("  eeprom:\n    pi4: /srv/e.bin\n    BOOT_ORDER: 0x9\n", "", "defaults.eeprom.BOOT_ORDER \"0x9\": 9 is not a boot mode"),
    ("  eeprom:\n    pi4: e.bin\n", "", "defaults.eeprom.pi4 \"e.bin\" is not a plain absolute path"),
    ("  eeprom:\n    BOOT_ORDER: 0xf21\n", "", "node node01 (pi4) has eeprom: settings and no bootloader image"),
  ])
  func wrongSettingsAreRefusedWhereTheyAreWritten(defaults: String, node: String, message: String) {
    let decoded = Self.decoded(defaults: defaults, node: node)
    #expect(decoded.cluster == nil)
    #expect(decoded.diagnostics.contains { $0.message.contains(message) }, "\(decoded.diagnostics.map(\.message))")
  }

  @Test func aNodeReportsItsSettingsByValue() {
    let reported =
      "[all]\nBOOT_UART=0\nBOOT_ORDER=0xF21\nTFTP_PREFIX=0\nNET_INSTALL_ENABLED=0\nPOWER_OFF_ON_HALT=1\nTFTP_FILE_TIMEOUT=0xEA60\nTFTP_IP=10.42.0.250\n"
    #expect(Self.wanted.isReported(by: reported))
    #expect(!Self.wanted.isReported(by: reported.replacing("BOOT_ORDER=0xF21", with: "BOOT_ORDER=0xf41")))
    #expect(!Self.wanted.isReported(by: "[all]\nBOOT_ORDER=0xf21\n"))
  }
}

/// A real bootloader image, when one is given (`PISWARM_PIEEPROM=pieeprom-*.bin`): its
/// configuration replaced reads back the same, every other section is left as it was, and
/// (`PISWARM_PIEEPROM_OUT=FILE`) the .upd is written out to compare with rpi-eeprom-config's.
@Suite struct RealEEPROMImageTests {
  static let path = ProcessInfo.processInfo.environment["PISWARM_PIEEPROM"]

  @Test(.enabled(if: path != nil)) func aRealImageTakesTheSettings() throws {
    let path = try #require(Self.path)
    let original = try BootloaderImage(Array(try #require(FileManager.default.contents(atPath: path))))
    let updated = try original.replacingBootConfig(EEPROMTests.wanted.bootConf)
    #expect(EEPROMConfig.settings(in: updated.bootConfig) == EEPROMTests.wanted.settings)
    let kept = { (image: BootloaderImage) in
      image.sections.filter { $0.name != BootloaderImage.configName && $0.magic != 0x55aa_feef }
    }
    #expect(kept(updated) == kept(original))
    for section in kept(original) {
      let range = section.offset..<(section.offset + 8 + section.length)
      #expect(updated.bytes[range] == original.bytes[range], "section at \(section.offset) changed")
    }
    if let out = ProcessInfo.processInfo.environment["PISWARM_PIEEPROM_OUT"] {
      try Data(updated.bytes).write(to: URL(fileURLWithPath: out))
    }
  }
}
