import Testing

@testable import PiSwarmCore

@Suite struct ClusterFileEditorTests {
  static let commented = """
    # my cluster, hand-written
    version: 1
    name: rack1   # the name

    head:
      interface: eth1
      address: 10.42.0.250/24   # sevastopol
      lan: dhcp

    swarm:
      managers: 1

    # the boards
    nodes:
      # first shelf
      - name: node01
        ip: 10.42.0.1   # left
        mac: b8:27:eb:00:00:01

      - name: node02
        ip: 10.42.0.2
        # spare fan
        labels: { fan: "yes" }

    # trailing comment about the end of the file
    """ + "\n"

  let spec = ClusterFileEditor.NodeSpec(
    name: "node03", ip: IPv4Address("10.42.0.3")!, mac: MACAddress("b8:27:eb:00:00:03"), labels: [("rack", "a")])

  @Test func addThenRemoveGivesBackTheSameBytes() throws {
    let added = try ClusterFileEditor.adding(spec, to: Self.commented)
    #expect(added != Self.commented)
    #expect(added.contains("  - name: node03\n    ip: 10.42.0.3\n    mac: b8:27:eb:00:00:03\n    labels: {rack: a}\n"))
    let decoded = ClusterFile.decode(text: added)
    #expect(decoded.cluster?.nodes.map(\.name) == ["node01", "node02", "node03"])
    #expect(decoded.cluster?.node(named: "node03")?.labels == ["rack": "a"])
    let removed = try ClusterFileEditor.removing(node: "node03", from: added)
    #expect(removed == Self.commented)
  }

  @Test func aRangeIsAddedAsTheClusterFileWritesOneAndExpandsWhenRead() throws {
    let range = ClusterFileEditor.NodeSpec(
      name: "node[03-05]", ip: IPv4Address("10.42.0.13")!, mac: MACAddress("b8:27:eb:00:00:03"), model: .pi4)
    #expect(range.isRange)
    let added = try ClusterFileEditor.adding(range, to: Self.commented)
    #expect(added.contains("\n    ip: 10.42.0.13+\n    mac: b8:27:eb:00:00:03+\n    model: pi4\n"), "\(added)")
    let decoded = ClusterFile.decode(text: added)
    #expect(!decoded.diagnostics.hasErrors, "\(decoded.diagnostics)")
    let nodes = try #require(decoded.cluster).nodes
    #expect(nodes.map(\.name) == ["node01", "node02", "node03", "node04", "node05"])
    #expect(nodes.suffix(3).map(\.ip.description) == ["10.42.0.13", "10.42.0.14", "10.42.0.15"])
    #expect(nodes.suffix(3).map { $0.mac?.description } == ["b8:27:eb:00:00:03", "b8:27:eb:00:00:04", "b8:27:eb:00:00:05"])
    #expect(try ClusterFileEditor.removing(node: "node[03-05]", from: added) == Self.commented)
  }

  @Test func addingGoesAfterTheLastEntryAndKeepsTheCommentsAroundIt() throws {
    let added = try ClusterFileEditor.adding(spec, to: Self.commented)
    let lines = added.split(separator: "\n", omittingEmptySubsequences: false)
    let index = try #require(lines.firstIndex(of: "  - name: node03"))
    #expect(lines[index - 1] == "    labels: { fan: \"yes\" }")
    #expect(added.contains("# trailing comment about the end of the file"))
    #expect(added.contains("      # first shelf") || added.contains("  # first shelf"))
  }

  @Test func removingAMiddleNodeKeepsEverythingElse() throws {
    let removed = try ClusterFileEditor.removing(node: "node01", from: Self.commented)
    #expect(!removed.contains("node01"))
    #expect(removed.contains("  # first shelf\n"))
    #expect(removed.contains("ip: 10.42.0.2"))
    #expect(removed.contains("# spare fan"))
    #expect(ClusterFile.decode(text: removed).cluster?.nodes.map(\.name) == ["node02"])
  }

  @Test(arguments: [
    "name: a\nhead: {interface: eth0, address: 10.0.0.1/24}\nnodes: []\n",
    "name: a\nhead: {interface: eth0, address: 10.0.0.1/24}\nnodes:\n",
    "name: a\nhead: {interface: eth0, address: 10.0.0.1/24}\nnodes: ~  # none yet\n",
    "name: a\nhead: {interface: eth0, address: 10.0.0.1/24}\n",
    "name: a\nhead: {interface: eth0, address: 10.0.0.1/24}",
    "name: a\nnodes:\n- name: x1\n  ip: 10.0.0.5\nhead: {interface: eth0, address: 10.0.0.1/24}\n",
  ])
  func addsToEveryShapeOfNodes(text: String) throws {
    let spec = ClusterFileEditor.NodeSpec(name: "node09", ip: IPv4Address("10.0.0.9")!)
    let added = try ClusterFileEditor.adding(spec, to: text)
    let decoded = ClusterFile.decode(text: added)
    #expect(decoded.diagnostics.errors.isEmpty, "\(decoded.diagnostics) in\n\(added)")
    #expect(decoded.cluster?.nodes.last?.name == "node09")
    let removed = try ClusterFileEditor.removing(node: "node09", from: added)
    #expect(ClusterFile.decode(text: removed).cluster?.nodes.contains { $0.name == "node09" } == false)
  }

  @Test func refusesToRemoveOneNodeOfARange() {
    let text = "name: a\nhead: {interface: eth0, address: 10.0.0.1/24}\nnodes:\n  - name: node[02-05]\n    ip: 10.0.0.2+\n"
    #expect {
      try ClusterFileEditor.removing(node: "node03", from: text)
    } throws: { error in
      (error as? PiSwarmError)?.message.contains("range \"node[02-05]\"") == true
    }
  }

  @Test func unknownNodeSuggestsTheClosestName() {
    #expect {
      try ClusterFileEditor.removing(node: "node1", from: Self.commented)
    } throws: { error in
      (error as? PiSwarmError)?.message.contains("did you mean \"node01\"") == true
    }
  }
}
