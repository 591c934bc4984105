import PiSwarmCore
import PiSwarmTestSupport
import Testing

@Suite struct LabFilesTests {
  let layout = LabLayout(name: "demo", index: 7, nodeCount: 3, stateDirectory: "/var/lib/piswarm")

  @Test func layoutNamesAndAddresses() throws {
    #expect(layout.nodes.map(\.name) == ["node01", "node02", "node03"])
    #expect(layout.nodes.map(\.ip.description) == ["10.231.7.11", "10.231.7.12", "10.231.7.13"])
    #expect(layout.nodes[2].mac.description == "02:50:53:07:00:03")
    #expect(layout.headAddress.description == "10.231.7.1/24")
    #expect(layout.hostInterface == "psl-demo")
    #expect(layout.nodes[0].namespace == "pslab-demo-node01")
    #expect(layout.nodes[0].directory == "/var/lib/piswarm/labs/demo/nodes/node01")
    #expect(LabLayout(name: "x", index: 1, nodeCount: 120, stateDirectory: "/s").nodes.last?.name == "node120")
    #expect(LabLayout(name: "x", index: 1, nodeCount: 120, stateDirectory: "/s").nodes.first?.name == "node001")
  }

  @Test(arguments: [("lab", true), ("abcdefghijk", true), ("abcdefghijkl", false), ("Lab", false), ("a_b", false), ("", false)])
  func labNames(name: String, valid: Bool) {
    #expect((LabLayout.problem(withName: name) == nil) == valid)
    if valid { #expect(LabLayout(name: name, index: 1, nodeCount: 1, stateDirectory: "/s").hostInterface.utf8.count <= 15) }
  }

  @Test func clusterFileIsValidAndNamesEveryNode() throws {
    let text = LabFiles.clusterFile(layout, managers: 3)
    let decoded = ClusterFile.decode(text: text)
    #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
    let cluster = try #require(decoded.cluster)
    #expect(cluster.head.interface == "psl-demo")
    #expect(cluster.nodes.map(\.mac) == layout.nodes.map(\.mac))
    #expect(cluster.managers.count == 3)
    #expect(cluster.nodes.allSatisfy { $0.power.driver == "lab" && $0.power.settings["lab"] == "demo" })
    #expect(cluster.ssh.key == "/var/lib/piswarm/labs/demo/id_ed25519")
    if let problem = Golden.check(text, named: "lab-cluster.yml") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func nodeFilesMatchGolden() {
    let node = layout.nodes[1]
    for (name, text) in [
      ("lab-init.sh", LabFiles.initScript(layout, node)), ("lab-sshd_config", LabFiles.sshdConfig(node)),
      ("lab-daemon.json", LabFiles.daemonJSON(layout, node)), ("lab-hosts", LabFiles.hosts(layout, node)),
      ("lab-docker-service.sh", LabFiles.dockerService),
    ] {
      if let problem = Golden.check(text, named: name) { Issue.record(Comment(rawValue: problem)) }
    }
  }

  @Test func sshdAllowsKeysOnly() {
    let config = LabFiles.sshdConfig(layout.nodes[0])
    #expect(config.contains("PasswordAuthentication no"))
    #expect(config.contains("KbdInteractiveAuthentication no"))
    #expect(config.contains("ListenAddress 10.231.7.11"))
  }

  @Test func knownHostsLinePinsTheKey() {
    let line = LabFiles.knownHostsLine(layout.nodes[0], publicKey: "ssh-ed25519 AAAAC3Nza root@node01\n")
    #expect(line == "10.231.7.11 ssh-ed25519 AAAAC3Nza")
  }

  @Test(arguments: [("plain", "plain"), ("a b", "'a b'"), ("it's", "'it'\\''s'"), ("", "''"), ("$(x)", "'$(x)'")])
  func shellQuoting(word: String, quoted: String) { #expect(Shell.quote(word) == quoted) }
}
