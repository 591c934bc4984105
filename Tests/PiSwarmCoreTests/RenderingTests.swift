import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

@Suite struct RenderingTests {
  static let starterOptions = StarterFile.Options(
    name: "rack1", interface: "eth1", address: IPv4Interface("10.42.0.250/24")!, lan: .dhcp, sshUser: "root",
    sshKey: "/var/lib/piswarm/ssh/id_ed25519")

  @Test func starterFileMatchesGolden() {
    let text = StarterFile.render(Self.starterOptions)
    if let problem = Golden.check(text, named: "starter-cluster.yml") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test(arguments: [LANMode.proxy, .dhcp, .none])
  func starterFileIsValidAndEmpty(lan: LANMode) throws {
    var options = Self.starterOptions
    options.lan = lan
    let decoded = ClusterFile.decode(text: StarterFile.render(options))
    #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
    let cluster = try #require(decoded.cluster)
    #expect(cluster.nodes.isEmpty)
    #expect(cluster.ssh.key == "/var/lib/piswarm/ssh/id_ed25519")
  }

  @Test func starterFileTakesNodesFromTheEditor() throws {
    let spec = ClusterFileEditor.NodeSpec(name: "node01", ip: IPv4Address("10.42.0.1")!, mac: MACAddress("b8:27:eb:00:00:01"))
    let added = try ClusterFileEditor.adding(spec, to: StarterFile.render(Self.starterOptions))
    #expect(ClusterFile.decode(text: added).cluster?.nodes.map(\.name) == ["node01"])
    #expect(added.contains("# The nodes. A range makes many at once:"))
  }

  @Test func nodeTableMatchesGolden() throws {
    let cluster = try #require(ClusterFile.decode(text: baseFile).cluster)
    if let problem = Golden.check(NodeListing.table(cluster), named: "node-ls.txt") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func nodeJSONMatchesGolden() throws {
    let cluster = try #require(ClusterFile.decode(text: baseFile).cluster)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let json = String(decoding: try encoder.encode(NodeListing.entries(cluster)), as: UTF8.self) + "\n"
    if let problem = Golden.check(json, named: "node-ls.json") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func tableAlignsColumns() {
    let table = TextTable.render(header: ["A", "LONGER"], rows: [["xyz", "1"], ["q", "22"]])
    #expect(table == "A    LONGER\nxyz  1\nq    22\n")
  }

  /// The full example in docs/cluster-file.md must stay valid.
  @Test func documentedExampleIsValid() throws {
    let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/cluster-file.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    let start = try #require(text.range(of: "```yaml\n"))
    let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
    let example = String(text[start.upperBound..<end.lowerBound])
    let decoded = ClusterFile.decode(text: example)
    #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
    #expect((decoded.cluster?.nodes.count ?? 0) > 5)
  }
}
