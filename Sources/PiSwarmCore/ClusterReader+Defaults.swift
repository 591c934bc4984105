import Yams

/// The `defaults:` section, and the storage and power values nodes may also set.
extension ClusterReader {
  mutating func defaults(_ entry: Entry?) -> NodeDefaults? {
    var defaults = NodeDefaults(boot: .netboot, image: nil, dockerStorage: nil, power: .none)
    guard let entry else { return defaults }
    guard let fields = mapping(entry.value, "defaults", keys: Self.defaultsKeys) else { return nil }
    if let boot = fields["boot"], let mode = enumValue(boot.value, "defaults.boot", as: BootMode.self) {
      defaults.boot = mode
    }
    if let image = fields["image"], let name = text(image.value, "defaults.image") {
      if let problem = ImageName.problem(with: name) {
        error(image.value, "defaults.image \"\(name)\": \(problem); use the name 'piswarm image ls' shows")
      } else {
        defaults.image = name
      }
    }
    if let eeprom = fields["eeprom"], let config = self.eeprom(eeprom.value, "defaults.eeprom") { defaults.eeprom = config }
    if let extra = fields["cmdline_extra"] { defaults.cmdlineExtra = cmdlineExtra(extra.value, "defaults.cmdline_extra") }
    if let storage = fields["docker_storage"] {
      defaultStorageNode = storage.value
      defaults.dockerStorage = self.storage(storage.value, "defaults.docker_storage")
    }
    if let power = fields["power"], let (partial, keys) = self.power(power.value, "defaults.power") {
      defaults.power = PowerConfig(driver: partial.driver ?? "none", settings: partial.settings)
      defaultPowerKeys = keys
      // Nodes may complete it (a hub's location here, each node's port): required keys are
      // checked on each node's settings.
      checkPower(defaults.power, keys: keys, at: power.key, what: "defaults.power", partial: true)
    }
    return defaults
  }

  mutating func storage(_ node: Yams.Node, _ what: String) -> DockerStorage? {
    guard let raw = text(node, what) else { return nil }
    switch DockerStorage.parse(raw) {
    case .success(let storage): return storage
    case .failure(let failure):
      error(node, "\(what): \(failure.message)")
      return nil
    }
  }
}
