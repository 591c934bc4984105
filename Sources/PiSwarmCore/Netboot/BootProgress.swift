import Foundation

public enum BootProgress {
  /// Each netboot node's last boot, from `events` (oldest first) and whether its SSH answers now.
  public static func progress(_ cluster: Cluster, events: [BootEvent], sshUp: (Node) -> Bool) -> [NodeBootProgress] {
    let root = cluster.head.tftpRoot.trimmingSuffix("/") + "/"
    let sorted = events.sorted { $0.time < $1.time }
    return NFSExports.netbootNodes(cluster).map { node in
      let folders = Set([node.mac?.dashed, node.serial].compactMap { $0 })
      let mac = node.mac?.description
      // Addresses the node had: its own, and any its MAC was seen with (a router's, in proxy mode).
      var addresses: Set<String> = [node.ip.description]
      var mine: [BootEvent] = []
      for event in sorted {
        var belongs = mac != nil && event.mac == mac
        if belongs, let ip = event.ip { addresses.insert(ip) }
        if !belongs, event.mac == nil, let path = event.path, path.hasPrefix(root) {
          let folder = path.dropFirst(root.count).split(separator: "/").first.map(String.init)
          belongs = folder.map(folders.contains) ?? false
        }
        if !belongs, event.mac == nil, let ip = event.ip, addresses.contains(ip), event.kind == .tftpSent {
          belongs = true
        }
        if belongs { mine.append(event) }
      }
      // The last boot starts at the last DHCP/PXE request.
      let start = mine.lastIndex { [.pxe, .discover].contains($0.kind) || ($0.kind == .lease && $0.asksToNetboot) }
      let last = start.map { Array(mine[$0...]) } ?? mine
      var reached: [BootPhase: Date] = [:]
      if let start { reached[.seen] = mine[start].time }
      for event in last where event.kind == .tftpSent {
        if let path = event.path, let phase = BootPhase.of(file: path) { reached[phase] = reached[phase] ?? event.time }
        if reached[.seen] == nil { reached[.seen] = event.time }
      }
      let up = sshUp(node)
      var steps: [NodeBootProgress.Step] = []
      for phase in BootPhase.allCases {
        switch phase {
        case .nfsRoot:
          steps.append(.init(phase: phase, time: nil, state: up ? "inferred" : "unknown"))
        case .ssh:
          steps.append(.init(phase: phase, time: nil, state: up ? "up" : "down"))
        default:
          steps.append(.init(phase: phase, time: reached[phase], state: reached[phase] == nil ? "not reached" : "observed"))
        }
      }
      let observed = reached.max { $0.key < $1.key }
      let phase = up ? BootPhase.ssh : observed?.key
      return NodeBootProgress(
        node: node.name, mac: mac, ip: node.ip.description, phase: phase, time: up ? nil : observed?.value, steps: steps)
    }
  }
}
