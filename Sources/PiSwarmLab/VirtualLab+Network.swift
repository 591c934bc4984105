import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The lab's network: its subnet, the switch (a bridge in a namespace of its own), and each
/// node's namespace and link.
extension VirtualLab {
  /// The lowest subnet index no other lab here uses and no host interface has an address in.
  func freeIndex() throws(PiSwarmError) -> Int {
    let taken = Set(LabState.all(stateDirectory: stateDirectory).map(\.index))
    let addresses = (try? Command("ip", ["-4", "-o", "addr", "show"]).run().stdoutText) ?? ""
    for index in 1...254 where !taken.contains(index) {
      let prefix = "\(LabLayout.subnetPrefix.0).\(LabLayout.subnetPrefix.1).\(index)."
      if !addresses.contains(" \(prefix)") { return index }
    }
    throw PiSwarmError(.system, "no free lab subnet left in 10.231.0.0/16", advice: "remove a lab with 'piswarm lab down'")
  }

  /// The switch: a namespace with a bridge, and a veth from the host (the head) to it.
  func makeSwitch(_ layout: LabLayout) throws(PiSwarmError) {
    raiseNeighbourLimits(nodes: layout.nodes.count)
    let namespaces = Set(Self.namespaces())
    if !namespaces.contains(layout.switchNamespace) {
      try ip(["netns", "add", layout.switchNamespace])
      try ip(
        ["-n", layout.switchNamespace, "-batch", "-"],
        input: """
          link set lo up
          link add \(layout.bridge) type bridge stp_state 0 forward_delay 0
          link set \(layout.bridge) up

          """)
    }
    if !linkExists(layout.hostInterface) {
      try ip([
        "link", "add", layout.hostInterface, "address", layout.headMAC.description, "type", "veth", "peer", "name", "head",
        "netns", layout.switchNamespace,
      ])
      try ip(["-n", layout.switchNamespace, "link", "set", "head", "master", layout.bridge, "up"])
      _ = try? Command("sysctl", ["-qw", "net.ipv6.conf.\(layout.hostInterface).disable_ipv6=1"]).run()
      try ip(["addr", "add", layout.headAddress.description, "dev", layout.hostInterface])
      try ip(["link", "set", layout.hostInterface, "up"])
    }
  }

  /// Raises the host's neighbour table limits (shared by every namespace) to what a lab of
  /// `nodes` needs, when they are lower: never lowered (other labs may need them), so not undone
  /// by 'lab down'. Best effort: a lab that cannot raise them still starts.
  func raiseNeighbourLimits(nodes: Int) {
    let keys = (1...3).map { "net.ipv4.neigh.default.gc_thresh\($0)" }
    let current = keys.compactMap { key in
      (try? String(contentsOfFile: "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/"), encoding: .utf8))
        .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
    guard let wanted = LabLayout.neighbourThresholds(nodes: nodes, current: current) else { return }
    _ = try? Command("sysctl", ["-qw"] + zip(keys, wanted).map { "\($0)=\($1)" }).run()
  }

  func makeNetwork(_ layout: LabLayout, _ node: LabLayout.Node) throws(PiSwarmError) {
    if Self.namespaces().contains(node.namespace) { return }
    try ip(["netns", "add", node.namespace])
    try ip(
      ["-n", layout.switchNamespace, "-batch", "-"],
      input: """
        link add \(node.port) type veth peer name eth0 address \(node.mac) netns \(node.namespace)
        link set \(node.port) master \(layout.bridge) up

        """)
    try ip(
      ["-n", node.namespace, "-batch", "-"],
      input: """
        link set lo up
        addr add \(node.ip)/24 dev eth0
        link set eth0 up

        """)
  }

  static func namespaces() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).sorted()
  }

  /// Whether this network namespace has the link: /proc/self/net/dev lists the current one's
  /// (/sys/class/net shows the namespace /sys was mounted in, the host's even when `lab up` runs
  /// inside another one, as the journey test runs it in its head's: a second `lab up` then tried
  /// to add the head's link again).
  func linkExists(_ name: String) -> Bool {
    let table = (try? String(contentsOfFile: "/proc/self/net/dev", encoding: .utf8)) ?? ""
    return table.split(separator: "\n").contains { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) == name }
  }

  func ip(_ arguments: [String], input: String? = nil) throws(PiSwarmError) {
    try Command("ip", arguments).check(input: input.map { Data($0.utf8) })
  }
}
