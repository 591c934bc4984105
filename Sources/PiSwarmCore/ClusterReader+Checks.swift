import Yams

/// Roles (which nodes manage the swarm) and the checks across nodes: duplicate names, addresses,
/// MACs and serials, storage that cannot work.
extension ClusterReader {
  mutating func assignRoles(_ nodes: inout [Node], swarm: SwarmRead, entry: Entry?) -> [String] {
    let at = swarm.managersNode ?? entry?.key
    var managers: [String]
    switch swarm.settings.managers {
    case nil:
      managers = nodes.prefix(nodes.count >= 3 ? 3 : 1).map(\.name)
    case .count(let count):
      if count == 0 {
        error(at, "swarm.managers is 0; a swarm needs at least one manager: use 3 to tolerate one failure")
      } else if count > nodes.count && !nodes.isEmpty {
        error(
          at,
          "swarm.managers is \(count), but the file has only \(nodes.count) node\(nodes.count == 1 ? "" : "s"); lower the count or add nodes"
        )
      }
      managers = nodes.prefix(count).map(\.name)
    case .names(let names):
      if names.isEmpty && swarm.listLength == 0 {
        error(at, "swarm.managers is an empty list; a swarm needs at least one manager: name 1, 3 or 5 nodes")
      }
      let known = Set(nodes.map(\.name))
      var seen = Set<String>()
      managers = []
      for (name, node) in swarm.managerNodes {
        if !known.contains(name) {
          error(
            node,
            "manager \"\(name)\" is not a node in this file\(Suggestion.hint(for: name, in: known.sorted())); add it under nodes or fix the name"
          )
        } else if !seen.insert(name).inserted {
          error(node, "manager \"\(name)\" is listed twice; list each manager once")
        } else {
          managers.append(name)
        }
      }
    }
    let count = managers.count
    if count > 0 && count % 2 == 0 {
      warning(
        at,
        "\(count) managers: an even number tolerates no more failures than \(count - 1) (raft needs a majority); use \(count - 1) or \(count + 1)"
      )
    } else if count > 7 {
      warning(at, "\(count) managers: more than 7 slows every raft write; use 3, 5 or 7 and make the rest workers")
    }
    let managerSet = Set(managers)
    for index in nodes.indices where managerSet.contains(nodes[index].name) {
      nodes[index].role = .manager
    }
    return managers
  }

  mutating func check(entries: [Placed], nodes: [Node], head: Head) {
    var names: [String: Placed] = [:]
    var ips: [IPv4Address: Placed] = [:]
    var macs: [MACAddress: Placed] = [:]
    var serials: [String: Placed] = [:]
    for (index, entry) in entries.enumerated() {
      let node = nodes[index]
      // A range repeats one mistake for each of its nodes; report it once per entry and kind.
      if let other = names[node.name] {
        error(entry.nameNode, "duplicate node name \"\(node.name)\": also \(describe(other)); give each node its own name")
      } else {
        names[node.name] = entry
      }

      if node.ip == head.address.address {
        if once("ip=", at: entry.item) {
          error(entry.ipNode, "\(node.name)'s address \(node.ip) is the head's own address; pick another")
        }
      } else if !head.address.contains(node.ip) {
        if once("ip<", at: entry.item) {
          error(
            entry.ipNode,
            "\(node.name)'s address \(node.ip) is outside the head's subnet \(head.address.networkDescription); pick an address inside it or change head.address"
          )
        }
      } else if !head.address.isHost(node.ip) {
        if once("ip!", at: entry.item) {
          error(
            entry.ipNode,
            "\(node.name)'s address \(node.ip) is the subnet's \(node.ip == head.address.network ? "network" : "broadcast") address; pick a host address"
          )
        }
      } else if let other = ips[node.ip] {
        error(
          entry.ipNode,
          "duplicate ip \(node.ip): \(node.name) and \(describe(other)) both have it; give each node its own address")
      } else {
        ips[node.ip] = entry
      }

      if let mac = node.mac {
        if let other = macs[mac] {
          error(entry.macNode, "duplicate mac \(mac): \(node.name) and \(describe(other)) both have it; each board has its own")
        } else {
          macs[mac] = entry
        }
      }
      if let serial = node.serial {
        if let other = serials[serial] {
          error(
            entry.serialNode,
            "duplicate serial \(serial): \(node.name) and \(describe(other)) both have it; each board has its own")
        } else {
          serials[serial] = entry
        }
      }
      storageChecks(node, entry)
      if node.boot == .netboot && node.mac == nil && node.serial == nil && once("boot", at: entry.item) {
        warning(
          entry.nameNode,
          "\(node.name) boots from the network but has no mac or serial, so it cannot be served yet; add one, or run 'piswarm discover --add'"
        )
      }
    }
  }

  /// True the first time `kind` is reported at `node`'s place.
  mutating func once(_ kind: String, at node: Yams.Node?) -> Bool {
    reported.insert("\(location(node)) \(kind)").inserted
  }

  mutating func storageChecks(_ node: Node, _ entry: Placed) {
    // A storage mode inherited from defaults is reported once, where defaults say it.
    let at = entry.storageNode ?? defaultStorageNode ?? entry.nameNode
    switch node.dockerStorage {
    case .root where node.boot == .netboot:
      if once("root", at: at) {
        error(
          at,
          "\(entry.storageNode == nil && defaultStorageNode != nil ? "defaults.docker_storage is root, but " : "")\(node.name) boots from the network, so its root is NFS, where Docker's overlay2 cannot run; use docker_storage: loopfile:16G (an image file on the share) or device:/dev/…"
        )
      }
    case .tmpfs where node.role == .manager:
      if once("tmpfs", at: at) {
        error(
          at,
          "\(node.name) is a manager with docker_storage tmpfs: its swarm state would be lost at every reboot; use loopfile:SIZE or device:/dev/… for managers"
        )
      }
    case .tmpfs:
      if once("tmpfs", at: at) {
        warning(
          at,
          "\(node.name) keeps Docker in memory (tmpfs): images and swarm membership are lost at reboot, and it rejoins as a new node"
        )
      }
    case .loopfile(let size) where size < .gibibytes(2):
      if once("small", at: at) {
        warning(at, "\(node.name)'s loopfile of \(size) is small for Docker images; 8G or more is usual")
      }
    default:
      break
    }
  }

  func describe(_ entry: Placed) -> String {
    "\(entry.node.name) (line \(entry.node.location.line))"
  }
}
