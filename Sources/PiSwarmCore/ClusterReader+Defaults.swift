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
    if let extra = fields["cmdline_extra"] { defaults.cmdlineExtra = cmdlineExtra(extra.value, "defaults.cmdline_extra") }
    if let storage = fields["docker_storage"] {
      defaultStorageNode = storage.value
      defaults.dockerStorage = self.storage(storage.value, "defaults.docker_storage")
    }
    if let power = fields["power"], let partial = self.power(power.value, "defaults.power") {
      defaults.power = PowerConfig(driver: partial.driver ?? "none", settings: partial.settings)
      checkPower(defaults.power, at: power.key, what: "defaults.power")
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

  mutating func power(_ node: Yams.Node, _ what: String) -> PartialPower? {
    if let driver = node.scalar.flatMap({ isNull(node) ? nil : $0.string }) {
      // `power: none` is shorthand for a driver with no settings.
      return checkDriver(driver, node, what) ? PartialPower(driver: driver, settings: [:]) : nil
    }
    guard !isNull(node), node.mapping != nil else {
      if !isNull(node) { error(node, "\(what) must be a mapping with a driver, e.g. { driver: command, on: \"…\", off: \"…\" }") }
      return nil
    }
    var driver: String?
    var settings: [String: String] = [:]
    for (key, value) in node.mapping ?? [:] {
      guard let name = key.scalar?.string else {
        error(key, "a key in \(what) must be plain text, found \(kind(of: key))")
        continue
      }
      guard let text = text(value, "\(what).\(name)") else { continue }
      if name == "driver" {
        if checkDriver(text, value, what) { driver = text } else { return nil }
      } else {
        settings[name] = text
      }
    }
    return PartialPower(driver: driver, settings: settings)
  }

  mutating func checkDriver(_ driver: String, _ node: Yams.Node, _ what: String) -> Bool {
    if PowerConfig.drivers.contains(driver) { return true }
    error(
      node,
      "\(what): unknown power driver \"\(driver)\"\(Suggestion.hint(for: driver, in: PowerConfig.drivers)); drivers: \(PowerConfig.drivers.joined(separator: ", "))"
    )
    return false
  }

  mutating func checkPower(_ power: PowerConfig, at node: Yams.Node, what: String) {
    let needed: [String] =
      switch power.driver {
      case "command": ["on", "off"]
      default: []
      }
    for key in needed where power.settings[key]?.isEmpty ?? true {
      error(
        node,
        "\(what): the \(power.driver) driver needs \"\(key)\", a command with {node}, {ip} or {port} in it, e.g. \(key): \"uhubctl -l 1-1 -p {port} -a \(key)\""
      )
    }
  }
}
