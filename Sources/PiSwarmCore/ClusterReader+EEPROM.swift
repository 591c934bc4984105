import Yams

/// `eeprom:` in `defaults:` and on nodes: Pi 4/5 bootloader settings and the images they go in.
extension ClusterReader {
  static var eepromKeys: [String] { EEPROMConfig.Family.allCases.map(\.rawValue) + EEPROMConfig.keys.keys.sorted() }

  mutating func eeprom(_ node: Yams.Node, _ what: String) -> EEPROMConfig? {
    guard let fields = mapping(node, what, keys: Self.eepromKeys) else { return nil }
    var config = EEPROMConfig()
    for (key, entry) in fields {
      guard let value = text(entry.value, "\(what).\(key)") else { continue }
      if let family = EEPROMConfig.Family(rawValue: key) {
        guard value.hasPrefix("/"), HeadPath.problem(with: value) == nil else {
          error(
            entry.value,
            "\(what).\(key) \"\(value.terminalSafe)\" is not a plain absolute path on the head; give the bootloader image you downloaded, e.g. /srv/piswarm/eeprom/pieeprom-2025-05-08.bin"
          )
          continue
        }
        config.images[family] = value
      } else if let problem = EEPROMConfig.problem(key: key, value: value) {
        error(entry.value, "\(what).\(problem.terminalSafe)")
      } else {
        config.settings[key] = value
      }
    }
    return config
  }

  /// A node's bootloader settings need a board with an EEPROM and an image for its family.
  mutating func checkEEPROM(_ config: EEPROMConfig, node name: String, model: BoardModel?, at place: Yams.Node?, own: Bool) {
    guard !config.settings.isEmpty else { return }
    guard let family = EEPROMConfig.Family(model) else {
      if own {
        error(
          place,
          "node \(name) has eeprom: settings but its model is \(model?.rawValue ?? "not given"); only Pi 4/5 boards (model: pi4, pi400, cm4, pi5, pi500, cm5) have an EEPROM bootloader"
        )
      }
      return
    }
    if config.images[family] == nil {
      error(
        place,
        "node \(name) (\(family.rawValue)) has eeprom: settings and no bootloader image to write them into; add eeprom.\(family.rawValue): the path of a pieeprom-*.bin from Raspberry Pi's rpi-eeprom releases"
      )
    }
  }
}
