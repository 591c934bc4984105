import Foundation
import PiSwarmCore
import PiSwarmServe
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The pages and /metrics are pure functions of the cluster and the observations: golden files.
@Suite struct ServeRenderingTests {
  static let clusterText = """
    version: 1
    name: shelfie
    head: { interface: eth1, address: 10.0.0.1/24, lan: none }
    ssh: { user: root, key: /etc/piswarm/id_ed25519 }
    defaults: { boot: preinstalled, docker_storage: root }
    swarm: { managers: [pi01] }
    nodes:
      - { name: pi01, ip: 10.0.0.11, labels: { rack: top } }
      - { name: pi02, ip: 10.0.0.12, labels: { rack: top } }
      - { name: pi03, ip: 10.0.0.13, labels: { rack: bottom } }
      - { name: pi04, ip: 10.0.0.14, labels: { rack: bottom } }
      - { name: pi05, ip: 10.0.0.15, labels: { rack: top } }
      - { name: "pi06", ip: 10.0.0.16 }

    """

  static var cluster: Cluster {
    get throws {
      let decoded = ClusterFile.decode(bytes: Data(clusterText.utf8))
      return try #require(decoded.cluster, "\(decoded.diagnostics)")
    }
  }

  static let now = Date(timeIntervalSince1970: 1_790_000_000)

  static func sample(_ temperature: Int, throttled: String? = nil, memoryFree: Int = 600_000) -> NodeSample {
    var values = [
      "memory_total_kb": "1000000", "memory_available_kb": "\(memoryFree)", "disk_total_kb": "30000000",
      "disk_available_kb": "20000000", "cpu_temp_mc": "\(temperature)", "uptime_s": "1234.5", "dockerd": "running",
    ]
    if let throttled { values["throttled"] = throttled }
    return NodeSample(values)
  }

  static var observations: [String: NodeView] {
    var up = NodeView()
    up.reach = .up
    up.since = now.addingTimeInterval(-600)
    up.lastSample = now
    up.power = "on"
    up.docker = "20.10.24"
    up.storage = "overlay2"
    up.sample = sample(48_312, throttled: "0x0")
    up.swarm = SwarmStanding(role: "manager", state: "ready", availability: "active", leader: true, runningTasks: ["task abc"])
    up.bootPhase = "ssh"
    up.bootTime = now.addingTimeInterval(-700)
    var hot = up
    hot.sample = sample(82_000, throttled: "0x50005")
    hot.swarm = SwarmStanding(role: "worker", state: "ready", availability: "active", leader: false, runningTasks: [])
    var drained = up
    drained.sample = sample(51_000, throttled: "0x50000", memoryFree: 50_000)
    drained.swarm = SwarmStanding(role: "worker", state: "ready", availability: "drain", leader: false, runningTasks: [])
    var down = NodeView()
    down.reach = .down("ssh: connect to host 10.0.0.14 port 22: No route to host <script>")
    down.since = now.addingTimeInterval(-30)
    down.power = "off"
    down.swarm = SwarmStanding(role: "worker", state: "down", availability: "active", leader: false, runningTasks: [])
    var docker = up
    docker.sample.values["dockerd"] = "stopped"
    docker.swarm = nil
    return ["pi01": up, "pi02": hot, "pi03": drained, "pi04": down, "pi05": docker]
  }

  static let viewer = Pages.Viewer(loggedIn: true, readOnly: false, csrf: "csrf-fixed-for-the-golden-file")

  @Test func rackPageMatchesGolden() throws {
    let view = RackView.build(try Self.cluster, Self.observations, now: Self.now)
    if let problem = Golden.check(Pages.rack(view, viewer: Self.viewer), named: "rack.html") {
      Issue.record(Comment(rawValue: problem))
    }
    let anonymous = Pages.rack(view, viewer: Pages.Viewer(loggedIn: false, readOnly: false, csrf: ""))
    #expect(!anonymous.contains("action=\"/action\""), "a page for no one logged in offers actions")
    let readOnly = Pages.rack(view, viewer: Pages.Viewer(loggedIn: true, readOnly: true, csrf: "x"))
    #expect(!readOnly.contains("action=\"/action\"") && readOnly.contains("read-only"))
  }

  @Test func nodePageMatchesGolden() throws {
    let cluster = try Self.cluster
    let tile = RackView.tile(cluster.nodes[0], Self.observations["pi01"] ?? NodeView(), now: Self.now)
    let detail = Pages.NodeDetail(
      facts: [("model", "Raspberry Pi 4 Model B Rev 1.4"), ("os", "Debian GNU/Linux 12 (bookworm)")],
      events: [
        (Self.now.addingTimeInterval(-700), "boot", "tftp-sent start4.elf"),
        (Self.now.addingTimeInterval(-800), "action", "power cycle: done"),
      ],
      tasks: ["task abc"], reach: ["ssh -i /etc/piswarm/id_ed25519 root@10.0.0.11", "piswarm exec pi01 -- uptime"])
    let html = Pages.node(cluster: cluster.name, tile, detail, viewer: Self.viewer)
    if let problem = Golden.check(html, named: "node.html") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func tilesSayWhyInWords() throws {
    let view = RackView.build(try Self.cluster, Self.observations, now: Self.now)
    let groups: [String] = view.groups.map { $0.name }
    #expect(groups == ["top", "bottom", ""])
    let top: [String] = view.groups[0].tiles.map { $0.name }
    #expect(top == ["pi01", "pi02", "pi05"])
    var tiles: [String: RackView.Tile] = [:]
    for group in view.groups { for tile in group.tiles { tiles[tile.name] = tile } }
    #expect(tiles["pi01"]?.health == "ok" && tiles["pi01"]?.reasons == [])
    #expect(tiles["pi02"]?.health == "bad")
    #expect(tiles["pi02"]?.reasons.contains("under-voltage now: check the power supply") == true)
    #expect(tiles["pi02"]?.reasons.contains("hot: 82 °C") == true)
    #expect(tiles["pi03"]?.health == "warn")
    #expect(tiles["pi03"]?.reasons == ["drained: no new tasks", "since boot: under-voltage, throttled", "memory 95% used"])
    #expect(tiles["pi04"]?.status == "down" && tiles["pi04"]?.health == "bad")
    #expect(tiles["pi04"]?.reasons.first?.hasPrefix("down since ") == true)
    #expect(tiles["pi05"]?.reasons == ["dockerd is not running"])
    #expect(tiles["pi06"]?.status == "probing" && tiles["pi06"]?.health == "unknown")
    #expect(view.counts == ["ok": 1, "bad": 3, "warn": 1, "unknown": 1])
  }

  @Test func textFromNodesIsEscaped() throws {
    let view = RackView.build(try Self.cluster, Self.observations, now: Self.now)
    let html = Pages.rack(view, viewer: Self.viewer)
    #expect(!html.contains("<script>\n") || !html.contains("host <script>"))
    #expect(html.contains("No route to host &lt;script&gt;"))
  }

  @Test func metricsMatchGoldenAndParse() throws {
    let text = Metrics.render(try Self.cluster, Self.observations)
    if let problem = Golden.check(text, named: "metrics.txt") { Issue.record(Comment(rawValue: problem)) }
    let samples = try PrometheusText.parse(text)
    var up: [String: Double] = [:]
    for sample in samples where sample.name == "piswarm_node_up" { up[sample.labels["node"] ?? ""] = sample.value }
    #expect(up == ["pi01": 1, "pi02": 1, "pi03": 1, "pi04": 0, "pi05": 1])
    let underVoltage = samples.first { sample in
      sample.name == "piswarm_node_throttled" && sample.labels == ["node": "pi02", "flag": "under_voltage", "when": "now"]
    }
    #expect(underVoltage?.value == 1)
  }

  @Test func watchSamplesKeepOnlyKnownShortValues() {
    let sample = NodeSample.parse("cpu_temp_mc=51000\nevil=1\nthrottled=0x\(String(repeating: "0", count: 80))\ndockerd=running")
    #expect(sample.values == ["cpu_temp_mc": "51000", "dockerd": "running"])
    #expect(sample.temperature == 51)
  }

  /// The watch script on this machine, with a Pi's vcgencmd stood in by a script on PATH: its
  /// first sample parses, with the throttling bits and dockerd's state.
  @Test func theWatchScriptPrintsSamplesThatParse() throws {
    let folder = TemporaryDirectory("piswarm-watch")
    let fake = folder.path + "/vcgencmd"
    try "#!/bin/sh\necho throttled=0x50005\n".write(toFile: fake, atomically: true, encoding: .utf8)
    #expect(chmod(fake, 0o755) == 0)
    let environment = ["PATH": folder.path + ":/usr/bin:/bin", "INTERVAL": "0.2", "DISK_EVERY": "1"]
    let output = try Command(
      "sh", ["-c", "sh -c \"$0\" watch.sh | head -n 12", RemoteScript.watch.text], environment: environment, timeout: 20
    ).run()
    let block = output.stdoutText.components(separatedBy: "\n.\n").first ?? ""
    let sample = NodeSample.parse(block)
    #expect(sample.throttled == 0x50005, "\(output.stdoutText)")
    #expect(sample.memory != nil && sample.disk != nil, "\(output.stdoutText)")
    #expect(["running", "stopped"].contains(sample.values["dockerd"] ?? ""), "\(output.stdoutText)")
  }

  @Test func formsDecode() {
    #expect(
      ServeApp.parseForm("node=pi01&action=drain&csrf=a%2Bb+c&node=x") == ["node": "pi01", "action": "drain", "csrf": "a+b c"])
  }
}
