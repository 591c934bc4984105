import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `piswarm serve` on a lab, seen through Debian's headless Chromium (driven over the DevTools
/// protocol by scripts/serve-browser.py) and through curl: a tile per node, a stopped node's tile
/// down within 5 s without a reload, a drain through the page that the swarm shows, no action
/// without a login or with a forged form, and /metrics that parses as Prometheus' text format.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct ServeIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  static let programs = ["chromium", "python3", "curl"]

  /// `piswarm serve` in the background, ended by its PID.
  final class Server {
    let child: ChildProcess
    let port: Int
    let log: String

    init(lab: Lab, file: String, port: Int) throws {
      self.port = port
      log = "\(lab.state.path)/serve.log"
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = lab.state.path
      environment["PISWARM_FILE"] = nil
      child = try ChildProcess.start(
        [
          LabIntegrationTests.binary, "--file", file, "serve", "--listen", "127.0.0.1:\(port)", "--interval", "1",
          "--connect-timeout", "2",
        ], environment: environment, stdout: .file(log, append: true), stderr: .stdout, group: .own)
    }

    var base: String { "http://127.0.0.1:\(port)" }

    func stop() -> Int32 {
      child.signal(SIGTERM)
      for _ in 0..<100 {
        if let status = child.ended() { return status }
        usleep(100_000)
      }
      child.signal(SIGKILL)
      return child.wait()
    }
  }

  static func curl(_ arguments: [String]) throws -> Command.Output {
    try Command("curl", ["-sS", "--max-time", "30"] + arguments, timeout: 40).run()
  }

  @Test func theRackInChromiumGoesDownLiveDrainsThroughThePageAndRefusesActionsWithoutLogin() throws {
    guard Prerequisites.require() else { return }
    let missing = Self.programs.filter { Command.resolve($0) == nil }
    if !missing.isEmpty {
      Issue.record("serve test prerequisites missing: \(missing.joined(separator: ", ")); run 'make deps' as root")
      return
    }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 3, managers: 1)
    let up = try lab.piswarm(["--file", file, "up"], timeout: 300)
    try #require(up.status == 0, "\(up.stderrText)")
    let ip1 = "10.231.\(SwarmIntegrationTests().index(of: lab)).11"
    let service = try lab.ssh(
      ip1,
      "docker service create --detach --no-resolve-image --stop-signal SIGKILL --name spread --replicas 3 --placement-pref spread=node.id piswarm/base:latest sleep 100000"
    )
    try #require(service.status == 0, "\(service.stderrText)")

    let port = Int.random(in: 20_000...60_000)
    let server = try Server(lab: lab, file: file, port: port)
    var stopped = false
    defer { if !stopped { _ = server.stop() } }
    var answered = false
    for _ in 0..<100 where !answered {
      answered = (try? Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "\(server.base)/metrics"]))?.stdoutText == "200"
      if !answered { usleep(100_000) }
    }
    try #require(answered, "serve did not answer: \((try? String(contentsOfFile: server.log, encoding: .utf8)) ?? "")")

    // No login, no action; a logged-in session with a forged form, no action either.
    let anonymous = try Self.curl(
      ["-o", "/dev/null", "-w", "%{http_code}", "-d", "node=node03&action=drain&confirmed=yes&csrf=x", "\(server.base)/action"])
    #expect(anonymous.stdoutText == "401", "\(anonymous.stdoutText)")
    let login = try lab.piswarm(["--file", file, "serve", "--login-url", "--listen", "127.0.0.1:\(port)"])
    try #require(login.status == 0, "\(login.stderrText)")
    let jar = "\(lab.state.path)/cookies"
    let loginURL = login.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try Self.curl(["-o", "/dev/null", "-c", jar, loginURL]).status == 0)
    let forged = try Self.curl(
      [
        "-o", "/dev/null", "-w", "%{http_code}", "-b", jar, "-d", "node=node03&action=drain&confirmed=yes&csrf=forged",
        "\(server.base)/action",
      ])
    #expect(forged.stdoutText == "403", "\(forged.stdoutText)")
    // The link was for one login only.
    let again = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", loginURL])
    #expect(again.stdoutText == "401", "\(again.stdoutText)")
    let availability = try lab.ssh(ip1, "docker node inspect node03 --format '{{.Spec.Availability}}'")
    #expect(availability.stdoutText == "active\n", "an action without a valid login changed the swarm")

    // The browser: a fresh one-time link, the rack, a node stopped, a drain.
    let browserLogin = try lab.piswarm(["--file", file, "serve", "--login-url", "--listen", "127.0.0.1:\(port)"])
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let screenshot = root.appendingPathComponent(".build/serve-rack.png").path
    let browser = try Command(
      "python3",
      [
        root.appendingPathComponent("scripts/serve-browser.py").path, "--base", server.base, "--login",
        browserLogin.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "--down", "node02", "--stop",
        "\(LabIntegrationTests.binary) --state-dir \(lab.state.path) lab stop --name \(lab.name) node02", "--drain", "node03",
        "--screenshot", screenshot,
      ], timeout: 400
    ).run()
    print("serve-browser.py report: \(browser.stdoutText)")
    let report = (try? JSONSerialization.jsonObject(with: browser.stdout) as? [String: Any]) ?? [:]
    #expect(report["error"] == nil, "\(browser.stdoutText) \(browser.stderrText)")
    #expect(report["tiles"] as? [String] == ["tile-node01", "tile-node02", "tile-node03"], "\(report)")
    #expect(report["loggedIn"] as? Bool == true)
    #expect(report["stopStatus"] as? Int == 0)
    let down = report["downAfterStopCommand"] as? Double ?? 99
    #expect(down < 5, "node02's tile turned down \(down) s after the stop, not within 5 s")
    #expect(report["reloaded"] as? Bool == false, "the page was reloaded")
    #expect(report["drainOk"] as? String == "true", "\(report)")
    #expect(Files.exists(screenshot))
    let drained = try lab.ssh(ip1, "docker node inspect node03 --format '{{.Spec.Availability}}'")
    #expect(drained.stdoutText == "drain\n", "the swarm does not show node03 drained")
    let left = try lab.ssh(ip1, "docker node ps node03 --filter desired-state=running -q | wc -l")
    #expect(left.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

    // dockerd dies on node03: its tile says so (the watch script's other branch).
    #expect(try lab.piswarm(["lab", "kill", "--name", lab.name, "node03"]).status == 0)
    var dockerDown = false
    for _ in 0..<50 where !dockerDown {
      let rows = try JSONSerialization.jsonObject(with: try Self.curl(["\(server.base)/api/status"]).stdout) as? [[String: Any]]
      dockerDown = rows?.last?["docker"] as? String == "down"
      if !dockerDown { usleep(100_000) }
    }
    #expect(dockerDown, "node03's dockerd was killed, and /api/status did not say so within 5 s")

    // /metrics parses as Prometheus' text format and says what the page said.
    let metrics = try Self.curl(["\(server.base)/metrics"])
    let samples = try PrometheusText.parse(metrics.stdoutText)
    let upValues = Dictionary(
      samples.filter { $0.name == "piswarm_node_up" }.map { ($0.labels["node"] ?? "", $0.value) }, uniquingKeysWith: { $1 })
    #expect(upValues == ["node01": 1, "node02": 0, "node03": 1], "\(metrics.stdoutText)")
    #expect(
      samples.contains {
        $0.name == "piswarm_node_swarm_availability" && $0.labels["node"] == "node03" && $0.labels["availability"] == "drain"
      })

    // /api/status: the rows of `status --json`, with the same keys.
    let api = try Self.curl(["\(server.base)/api/status"])
    let rows = try JSONSerialization.jsonObject(with: api.stdout) as? [[String: Any]] ?? []
    #expect(rows.map { $0["node"] as? String } == ["node01", "node02", "node03"], "\(api.stdoutText)")
    #expect(rows.first?["role"] as? String == "manager" && rows.first?["leader"] as? Bool == true)
    #expect(rows[1]["ssh"] as? String == "unreachable")
    let status = try lab.piswarm(["--file", file, "status", "--json"])
    let statusRows = try JSONSerialization.jsonObject(with: status.stdout) as? [[String: Any]] ?? []
    let apiKeys: Set<String> = Set(rows.first.map { Array($0.keys) } ?? [])
    let cliKeys: Set<String> = Set(statusRows.first.map { Array($0.keys) } ?? [])
    #expect(apiKeys == cliKeys, "node01: /api/status has \(apiKeys.sorted()), status --json \(cliKeys.sorted())")

    // The page's drain is journaled like the command line's.
    let store = try SQLiteStateStore(stateDirectory: lab.state.path)
    let run = try #require(try store.runs(limit: 20).first { $0.command == "piswarm serve: drain node03" })
    #expect(try store.steps(run: try #require(run.id)).map { "\($0.node) \($0.step) \($0.status)" } == ["node03 drain done"])
    let code = server.stop()
    stopped = true
    #expect(code == 0, "\((try? String(contentsOfFile: server.log, encoding: .utf8)) ?? "")")
    let log = (try? String(contentsOfFile: server.log, encoding: .utf8)) ?? ""
    #expect(!log.contains(loginURL) && !log.contains("code="), "the log holds a login code")
    let token = (try? String(contentsOfFile: "\(lab.state.path)/serve-token", encoding: .utf8)) ?? "missing"
    #expect(!log.contains(token.trimmingCharacters(in: .whitespacesAndNewlines)))
    var info = stat()
    #expect(stat("\(lab.state.path)/serve-token", &info) == 0 && info.st_mode & 0o777 == 0o600)
  }
}
