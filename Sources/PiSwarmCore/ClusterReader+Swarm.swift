import Yams

/// The `swarm:` section: managers, labels, the advertise interface, autolock.
extension ClusterReader {
  struct SwarmRead {
    var settings: SwarmSettings
    var managerNodes: [(String, Yams.Node)] = []
    var managersNode: Yams.Node?
    var listLength = 0
  }

  mutating func swarm(_ entry: Entry?) -> SwarmRead {
    var read = SwarmRead(settings: SwarmSettings(managers: nil, labels: [:], advertise: SwarmSettings.defaultAdvertise))
    guard let entry, let fields = mapping(entry.value, "swarm", keys: Self.swarmKeys) else { return read }
    if let managers = fields["managers"] {
      read.managersNode = managers.value
      if let list = managers.value.sequence {
        read.listLength = list.count
        var names: [String] = []
        for item in list {
          guard let name = text(item, "a manager") else { continue }
          read.managerNodes.append((name, item))
          names.append(name)
        }
        read.settings.managers = .names(names)
      } else if let raw = text(managers.value, "swarm.managers") {
        if let count = Int(raw), count >= 0 {
          read.settings.managers = .count(count)
        } else {
          error(
            managers.value,
            "swarm.managers \"\(raw)\" must be a count (e.g. 3) or a list of node names (e.g. [node01, node02, node03])")
        }
      }
    }
    if let labels = fields["labels"] { read.settings.labels = self.labels(labels.value, "swarm.labels") }
    if let advertise = fields["advertise"], let name = text(advertise.value, "swarm.advertise") {
      if HostName.isInterfaceName(name) {
        read.settings.advertise = name
      } else {
        error(advertise.value, "swarm.advertise \"\(name)\" is not a network interface name, e.g. eth0")
      }
    }
    if let autolock = fields["autolock"], let raw = text(autolock.value, "swarm.autolock") {
      switch raw {
      case "true": read.settings.autolock = true
      case "false": read.settings.autolock = false
      default: error(autolock.value, "swarm.autolock \"\(raw)\" must be true or false")
      }
    }
    return read
  }
}
