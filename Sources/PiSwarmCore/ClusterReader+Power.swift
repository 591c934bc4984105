import Yams

/// Power: a node's driver and its keys (`defaults.power`, a node's `power`), checked against
/// `PowerDriverKeys`, and the `power:` section (boot timeouts, retries, shutdown timeout).
extension ClusterReader {
  /// A `power` value: a driver's name, or a mapping with `driver` and its keys (with where each
  /// key is written).
  mutating func power(_ node: Yams.Node, _ what: String) -> (PartialPower, [String: Yams.Node])? {
    if let driver = node.scalar.flatMap({ isNull(node) ? nil : $0.string }) {
      // `power: none` is shorthand for a driver with no settings.
      return checkDriver(driver, node, what) ? (PartialPower(driver: driver, settings: [:]), [:]) : nil
    }
    guard !isNull(node), node.mapping != nil else {
      if !isNull(node) { error(node, "\(what) must be a mapping with a driver, e.g. { driver: command, on: \"…\", off: \"…\" }") }
      return nil
    }
    var driver: String?
    var settings: [String: String] = [:]
    var keys: [String: Yams.Node] = [:]
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
        keys[name] = key
      }
    }
    return (PartialPower(driver: driver, settings: settings), keys)
  }

  mutating func checkDriver(_ driver: String, _ node: Yams.Node, _ what: String) -> Bool {
    if PowerConfig.drivers.contains(driver) { return true }
    error(
      node,
      "\(what): unknown power driver \"\(driver)\"\(Suggestion.hint(for: driver, in: PowerConfig.drivers)); drivers: \(PowerConfig.drivers.joined(separator: ", "))"
    )
    return false
  }

  /// Every problem of the driver's keys, each at its key (else at `node`), once per place.
  mutating func checkPower(
    _ power: PowerConfig, keys: [String: Yams.Node], at node: Yams.Node, what: String, partial: Bool = false
  ) {
    for problem in PowerDriverKeys.problems(power, partial: partial) {
      let place = problem.key.flatMap { keys[$0] } ?? node
      guard once("power \(problem.message)", at: place) else { continue }
      if problem.isWarning {
        warning(place, "\(what): \(problem.message)")
      } else {
        error(place, "\(what): \(problem.message)")
      }
    }
  }

  /// The `power:` section.
  mutating func powerSettings(_ entry: Entry?) -> PowerSettings {
    var settings = PowerSettings()
    guard let entry, let fields = mapping(entry.value, "power", keys: PowerSettings.keys) else { return settings }
    func seconds(_ node: Yams.Node, _ what: String, _ range: ClosedRange<Double>) -> Double? {
      guard let raw = text(node, what) else { return nil }
      guard let value = Double(raw), range.contains(value) else {
        error(
          node, "\(what) \"\(raw)\" must be seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound)), e.g. \(what): 120")
        return nil
      }
      return value
    }
    if let timeouts = fields["boot_timeouts"],
      let phases = mapping(timeouts.value, "power.boot_timeouts", keys: BootTimeouts.keys)
    {
      for (key, phase) in phases {
        if let value = seconds(phase.value, "power.boot_timeouts.\(key)", 1...3600) { settings.bootTimeouts[key] = value }
      }
    }
    if let retries = fields["retries"], let raw = text(retries.value, "power.retries") {
      if let count = Int(raw), (0...5).contains(count) {
        settings.retries = count
      } else {
        error(retries.value, "power.retries \"\(raw)\" must be 0 to 5: how often a node stuck while booting is power-cycled")
      }
    }
    if let shutdown = fields["shutdown_timeout"], let value = seconds(shutdown.value, "power.shutdown_timeout", 1...3600) {
      settings.shutdownTimeout = value
    }
    return settings
  }

  /// Checks that need every node: `via:` names another node of the file; ports of a Pi 4/5's
  /// onboard USB hub switch together.
  mutating func checkPowerAcrossNodes(_ entries: [Placed]) {
    let names = Set(entries.map(\.node.name))
    var hubs: [String: [String]] = [:]
    for entry in entries {
      let power = entry.node.power
      let place = entry.powerNode ?? entry.item
      if let via = power.settings["via"] {
        if via == entry.node.name {
          error(
            place,
            "node \(entry.node.name) power: via names the node itself, which cannot switch its own power on; name its controller")
        } else if !names.contains(via) {
          if once("via \(via)", at: place) {
            error(
              place,
              "node \(entry.node.name) power: via \"\(via)\" is not a node in this file\(Suggestion.hint(for: via, in: names.sorted())); add the controller under nodes (it may have power: none)"
            )
          }
        }
      }
      if power.driver == "uhubctl", let location = power.settings["location"],
        PowerDriverKeys.onboardHubLocations.contains(location)
      {
        hubs["\(power.settings["via"] ?? "") \(location)", default: []].append(entry.node.name)
      }
    }
    for (key, nodes) in hubs.sorted(by: { $0.key < $1.key }) where nodes.count > 1 {
      let location = key.split(separator: " ").last.map(String.init) ?? key
      let place = entries.first { $0.node.name == nodes[0] }.map { $0.powerNode ?? $0.item }
      warning(
        place,
        "\(nodes.joined(separator: ", ")) share uhubctl location \(location): if it is a Raspberry Pi 4's or 5's onboard hub, its ports switch together, so switching one node switches them all; use an external hub with per-port power switching (see 'uhubctl')"
      )
    }
  }
}
