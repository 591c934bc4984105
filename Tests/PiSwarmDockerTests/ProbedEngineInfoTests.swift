import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// dockerd's `/info` as Docker's setup probe reads it on a node (curl through the socket, in
/// preflight's round trip): what the planner takes from it, and what it refuses. The inputs in
/// Golden/info-*.json are real answers of Debian's dockerd 20.10 in a lab swarm (a manager, a
/// worker).
@Suite struct ProbedEngineInfoTests {
  static func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
  }

  static func render(_ swarm: LocalSwarm) -> String {
    "state=\(swarm.state.rawValue) node=\(swarm.nodeID ?? "-") cluster=\(swarm.clusterID ?? "-") control=\(swarm.controlAvailable)"
  }

  @Test func realAnswersReadAsTheEngineAPIsWould() throws {
    var lines: [String] = []
    for name in ["info-manager.json", "info-worker.json"] {
      let info = try EngineInfo.fromProbe(try Self.fixture(name), node: "node01")
      lines.append("\(name): \(Self.render(try info.Swarm.local(node: "node01")))")
    }
    if let problem = Golden.check(lines.joined(separator: "\n") + "\n", named: "probed-info.txt") {
      Issue.record(Comment(rawValue: problem))
    }
  }

  /// The probe's line (base64, as the script prints it) through `EngineSetup.parse`.
  @Test func theProbeLineCarriesTheAnswer() throws {
    let text = try Self.fixture("info-worker.json")
    let probed = EngineSetup.parse("docker=yes\nengine_info=\(Data(text.utf8).base64EncodedString())\n")
    #expect(probed.engineInfo == text)
    #expect(EngineSetup.parse("docker=yes\n").engineInfo == nil)
  }

  /// The probe script's branches, run here with the real curl against a stub dockerd: an
  /// answer is printed (and reads back as the fixture); an error answer, no curl, or no socket
  /// print no line (the head then asks the Engine API itself).
  @Test(arguments: ["answers", "fails", "no curl", "no socket"]) func theScriptReadsInfoOnlyWhenDockerdAnswers(
    _ branch: String
  ) throws {
    let text = try Self.fixture("info-manager.json")
    let stub = StubDocker(["GET /info ": branch == "fails" ? (500, [:], #"{"message":"boom"}"#) : (200, [:], text)])
    let folder = TemporaryDirectory("piswarm-probe")
    let bin = folder.file("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    for tool in ["sh", "base64", "cat", "stat", "mountpoint", "sha256sum"] + (branch == "no curl" ? [] : ["curl"]) {
      try FileManager.default.createSymbolicLink(atPath: bin + "/" + tool, withDestinationPath: "/usr/bin/" + tool)
    }
    let cluster = try #require(ClusterFile.decode(text: Self.cluster).cluster)
    let socket = branch == "no socket" ? folder.file("none") : stub.path
    let parameters = EngineSetup.probeEnvironment(cluster).map {
      (name: $0.name, value: $0.name == "DOCKER_SOCKET" ? socket : $0.value)
    }
    let command = RemoteScript.engineProbe.command(parameters)
    let output = try Command("/usr/bin/env", Array(command.dropFirst()), environment: ["PATH": bin]).check().stdoutText
    let state = EngineSetup.parse(output)
    #expect(state.engineInfo == (branch == "answers" ? text.trimmingCharacters(in: .newlines) : nil), "\(output)")
    #expect(output.contains("storage_mode="))
  }

  static let cluster = """
    name: t
    head: {interface: eth0, address: 10.0.0.1/24}
    nodes:
      - {name: node01, ip: 10.0.0.11}

    """

  struct Malformed: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    /// What the message says beside the node's name.
    var says: String
    var testDescription: String { name }
  }

  static let malformed: [Malformed] = [
    Malformed(name: "not JSON", text: "<html>502</html>", says: "not JSON"),
    Malformed(name: "cut off", text: #"{"Name": "n", "ServerVersion": "20.10", "Driver": "#, says: "not JSON"),
    Malformed(name: "no swarm part", text: #"{"Name": "n", "ServerVersion": "20.10", "Driver": "overlay2"}"#, says: "no Swarm"),
    Malformed(
      name: "a state that is not a word",
      text: #"{"Name": "n", "ServerVersion": "20.10", "Driver": "o", "Swarm": {"LocalNodeState": 7}}"#,
      says: "Swarm.LocalNodeState: wrong type"),
    Malformed(
      name: "a list for the swarm",
      text: #"{"Name": "n", "ServerVersion": "20.10", "Driver": "o", "Swarm": []}"#, says: "Swarm: wrong type"),
  ]

  @Test(arguments: malformed) func malformedAnswersAreRefusedWithWhy(_ input: Malformed) {
    #expect {
      _ = try EngineInfo.fromProbe(input.text, node: "node07")
    } throws: { error in
      let text = "\(error)"
      return text.contains("node07: dockerd's /info, as the node read it, is not the Engine API's answer")
        && text.contains(input.says) && text.contains("piswarm exec node07 -- docker info")
    }
  }

  /// IDs go into the Engine API's paths and the planner's comparisons: only letters and digits.
  @Test(arguments: [
    ("node ID", #""NodeID": "../../swarm/leave?force=1""#),
    ("node ID", #""NodeID": "\#(String(repeating: "a", count: 65))""#),
    ("cluster ID", #""NodeID": "abc123", "Cluster": {"ID": "x y\u001b[31m"}"#),
  ])
  func idsThatAreNotIDsAreRefused(_ what: String, _ swarm: String) throws {
    let text = #"{"Name": "n", "ServerVersion": "20.10", "Driver": "o", "Swarm": {"LocalNodeState": "active", \#(swarm)}}"#
    let info = try EngineInfo.fromProbe(text, node: "node07")
    #expect {
      _ = try info.Swarm.local(node: "node07")
    } throws: { error in
      let text = "\(error)"
      return text.contains("node07: dockerd reports a \(what) that is not an ID") && !text.contains("\u{1b}")
        && !text.contains("../")
    }
  }

  /// In the observer: a node whose probe read its `/info` is not asked again; one whose answer
  /// is refused gets the refusal as its Docker error (and is left alone); one in the middle of
  /// a join (`pending`) is asked through the Engine API, which waits for it to settle.
  @Test func theObserverAsksOnlyWhatTheProbeDidNotRead() throws {
    let run = try RunHarness(managers: ["node01"], nodes: 3)
    run.swarm.form(managers: [RunHarness.ip(1)], workers: [RunHarness.ip(2), RunHarness.ip(3)])
    var nodes: [String: NodeObservation] = [:]
    for node in run.cluster.nodes {
      var engine = run.settled(node)
      engine.engineInfo = run.swarm.infoAsProbed(node.ip.description)
      nodes[node.name] = NodeObservation(engine: engine)
    }
    nodes["node02"]?.engine?.engineInfo = "garbage"
    let pending = try #require(nodes["node03"]?.engine?.engineInfo).replacingOccurrences(
      of: #""LocalNodeState":"active""#, with: #""LocalNodeState":"pending""#)
    nodes["node03"]?.engine?.engineInfo = pending
    let swarm = run.swarm
    let observation = RunObserver(cluster: run.cluster, parallel: 4, client: { swarm.client($0) }).observe(nodes)
    #expect(observation.nodes["node01"]?.swarm?.controlAvailable == true)
    #expect(observation.nodes["node02"]?.swarm == nil)
    #expect(observation.nodes["node02"]?.dockerError?.contains("is not the Engine API's answer") == true)
    #expect(observation.nodes["node03"]?.swarm?.state == .active)
    #expect(run.swarm.requests(to: RunHarness.ip(3)).contains { $0.hasSuffix("/info") })
    #expect(!run.swarm.requests(to: RunHarness.ip(1)).contains { $0.hasSuffix("/info") })
    #expect(run.swarm.requests(to: RunHarness.ip(2)).isEmpty)
    #expect(RunPlanner.plan(observation, cluster: run.cluster).actions.map(\.id) == ["refuse node02"])
  }
}
