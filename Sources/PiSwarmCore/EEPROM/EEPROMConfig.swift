import Foundation

/// `eeprom:` in `defaults:` or on a node: the Pi 4/5 bootloader settings piswarm writes into the
/// bootloader image the user gives (`pi4:` / `pi5:`, head paths to `pieeprom-*.bin`), then
/// offers the nodes over TFTP (`pieeprom.upd` + `pieeprom.sig` in their folders) until they
/// report the settings (`vcgencmd bootloader_config`).
public struct EEPROMConfig: Hashable, Sendable {
  /// Bootloader settings by key, values as written in `bootconf.txt` (e.g. BOOT_ORDER: 0xf21).
  public var settings: [String: String]
  /// The bootloader images, by family: `pi4` (BCM2711: Pi 4, Pi 400, CM4) and `pi5` (BCM2712:
  /// Pi 5, Pi 500, CM5).
  public var images: [Family: String]

  public enum Family: String, Sendable, Hashable, CaseIterable {
    case pi4
    case pi5

    /// The family of a model; nil for boards without an EEPROM bootloader.
    public init?(_ model: BoardModel?) {
      switch model {
      case .pi4, .pi400, .cm4: self = .pi4
      case .pi5, .pi500, .cm5: self = .pi5
      default: return nil
      }
    }
  }

  public init(settings: [String: String] = [:], images: [Family: String] = [:]) {
    self.settings = settings
    self.images = images
  }

  public var isEmpty: Bool { settings.isEmpty && images.isEmpty }

  /// A node's own keys over the defaults'.
  public func merged(over defaults: EEPROMConfig) -> EEPROMConfig {
    EEPROMConfig(
      settings: defaults.settings.merging(settings) { $1 }, images: defaults.images.merging(images) { $1 })
  }

  /// `bootconf.txt`: an `[all]` section with the settings, BOOT_ORDER first, then by key.
  public var bootConf: String {
    let keys = settings.keys.sorted { ($0 == "BOOT_ORDER" ? 0 : 1, $0) < ($1 == "BOOT_ORDER" ? 0 : 1, $1) }
    return "[all]\n" + keys.map { "\($0)=\(settings[$0] ?? "")\n" }.joined()
  }

  /// The settings of a boot configuration (`bootconf.txt`, what `vcgencmd bootloader_config`
  /// prints, or the `bootloader_config` fact: its lines joined by ';'): `KEY=VALUE` lines,
  /// comments and `[section]` lines skipped, the last value wins.
  public static func settings(in text: String) -> [String: String] {
    var settings: [String: String] = [:]
    for line in text.split(whereSeparator: { $0.isNewline || $0 == ";" }) {
      let line = line.drop { $0 == " " || $0 == "\t" }
      guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { continue }
      let key = line[..<equals].trimmingCharacters(in: .whitespaces)
      settings[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
    }
    return settings
  }

  /// Whether a node reporting `reported` (`vcgencmd bootloader_config`) runs these settings.
  /// Numbers compare by value (0xf21 = 0xF21, 30000 = 0x7530).
  public func isReported(by reported: String) -> Bool {
    let seen = Self.settings(in: reported)
    return settings.allSatisfy { key, value in
      guard let other = seen[key] else { return false }
      if let a = Self.number(value), let b = Self.number(other) { return a == b }
      return other == value
    }
  }

  static func number(_ text: String) -> UInt64? {
    let lower = text.lowercased()
    return lower.hasPrefix("0x") ? UInt64(lower.dropFirst(2), radix: 16) : UInt64(lower)
  }

  /// The keys piswarm accepts: Raspberry Pi's documented bootloader settings a netbooted rack
  /// node uses. Each with what its value must be.
  public static let keys: [String: Value] = [
    "BOOT_ORDER": .bootOrder,
    "BOOT_UART": .flag,
    "WAKE_ON_GPIO": .flag,
    "POWER_OFF_ON_HALT": .flag,
    "ENABLE_SELF_UPDATE": .flag,
    "DISABLE_HDMI": .flag,
    "HDMI_DELAY": .number,
    "NET_INSTALL_ENABLED": .flag,
    "NET_INSTALL_AT_POWER_ON": .flag,
    "DHCP_TIMEOUT": .number,
    "DHCP_REQ_TIMEOUT": .number,
    "TFTP_FILE_TIMEOUT": .number,
    "TFTP_IP": .address,
    "TFTP_PREFIX": .choice(["0", "1", "2"]),
    "TFTP_PREFIX_STR": .word,
    "CLIENT_IP": .address,
    "SUBNET": .address,
    "GATEWAY": .address,
    "MAC_ADDRESS": .mac,
    "NET_CONSOLE": .word,
    "PSU_MAX_CURRENT": .number,
    "USB_MSD_DISCOVER_TIMEOUT": .number,
    "USB_MSD_LUN_TIMEOUT": .number,
    "SD_BOOT_MAX_RETRIES": .number,
    "NET_BOOT_MAX_RETRIES": .number,
    "FREEZE_VERSION": .flag,
    "PARTITION": .number,
  ]

  /// What a setting's value must be.
  public enum Value: Sendable, Equatable {
    case flag
    case number
    case address
    case mac
    case word
    case choice([String])
    case bootOrder
  }

  /// The boot modes BOOT_ORDER's hex digits name (read right to left).
  public static let bootModes: [Character: String] = [
    "0": "SD card detect", "1": "SD card", "2": "network", "3": "RPIBOOT", "4": "USB mass storage",
    "5": "BCM USB mass storage", "6": "NVMe", "7": "HTTP", "e": "stop", "f": "restart",
  ]

  /// Why `value` is not a valid value of `key`; nil when it is.
  public static func problem(key: String, value: String) -> String? {
    guard let kind = keys[key] else {
      let known = keys.keys.sorted().joined(separator: ", ")
      return "\(key) is not a bootloader setting piswarm knows; use one of \(known)"
    }
    let ok: Bool
    switch kind {
    case .flag: ok = value == "0" || value == "1"
    case .number: ok = number(value) != nil
    case .address: ok = IPv4Address(value) != nil
    case .mac: ok = MACAddress(value) != nil
    case .word: ok = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "#") }
    case .choice(let values): ok = values.contains(value)
    case .bootOrder: return bootOrderProblem(value)
    }
    guard !ok else { return nil }
    switch kind {
    case .flag: return "\(key) is 0 or 1, not \"\(value)\""
    case .number: return "\(key) is a number (decimal or 0x hex), not \"\(value)\""
    case .address: return "\(key) is an IPv4 address, not \"\(value)\""
    case .mac: return "\(key) is a MAC address, not \"\(value)\""
    case .word: return "\(key) is one word of printable characters without '#', not \"\(value)\""
    case .choice(let values): return "\(key) is one of \(values.joined(separator: ", ")), not \"\(value)\""
    case .bootOrder: return nil
    }
  }

  static func bootOrderProblem(_ value: String) -> String? {
    let example = "e.g. 0xf21 (network, then SD card, then restart) or 0xf12 (SD card first)"
    let lower = value.lowercased()
    guard lower.hasPrefix("0x"), lower.count > 2, lower.count <= 10 else {
      return "BOOT_ORDER \"\(value)\" is 0x and 1 to 8 hex digits, one boot mode each, read right to left; \(example)"
    }
    for digit in lower.dropFirst(2) where bootModes[digit] == nil {
      let modes = bootModes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
      return "BOOT_ORDER \"\(value)\": \(digit) is not a boot mode (\(modes)); \(example)"
    }
    return nil
  }
}
