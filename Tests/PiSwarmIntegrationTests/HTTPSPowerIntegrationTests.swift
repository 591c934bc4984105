import Foundation
import PiSwarmCore
import PiSwarmPower
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// The turingpi and webhook drivers against `Fixtures/power_https_server.py` on loopback, speaking
/// the Turing Pi 2 BMC's API and a MAAS-style webhook over HTTPS with a self-signed certificate
/// the test makes: pinned on first use, a changed key refused before any credential is sent.
@Suite(.enabled(if: PowerBench.missing(PowerBench.httpsPrograms).isEmpty || Prerequisites.isCI))
final class HTTPSPowerIntegrationTests {

  let bench: PowerBench

  init() throws {
    bench = try PowerBench()
  }

  deinit { bench.cleanUp() }

  /// A self-signed certificate with a fresh EC key: `NAME.crt`, `NAME.key`.
  func makeCertificate(_ name: String) throws {
    try Command(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        bench.dir.file("\(name).key"),
        "-out", bench.dir.file("\(name).crt"), "-days", "30", "-subj", "/CN=power-test",
      ], timeout: 30
    ).check()
  }

  /// Starts the server (mode `bmc` or `webhook`) with certificate `certificate`; returns its PID
  /// and port.
  func startServer(_ mode: String, certificate: String, port: Int = 0, _ extra: [String]) throws -> (pid: pid_t, port: Int) {
    let portFile = bench.dir.file("\(mode).port")
    try? FileManager.default.removeItem(atPath: portFile)
    let pid = try bench.start(
      [
        Command.resolve("python3") ?? "python3", "\(PowerBench.fixtures)/power_https_server.py", mode,
        "--cert", bench.dir.file("\(certificate).crt"), "--key", bench.dir.file("\(certificate).key"),
        "--state", bench.dir.file("\(mode).state"), "--port-file", portFile, "--port", "\(port)",
      ] + extra, log: bench.dir.file("\(mode).out"))
    var chosen: Int?
    bench.waitUntil(timeout: 20) {
      chosen = bench.dir.read("\(mode).port").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
      return chosen != nil || !Processes.isAlive(pid)
    }
    guard let chosen else { throw TestFailure("the \(mode) server did not start: \(bench.dir.read("\(mode).out") ?? "")") }
    return (pid, chosen)
  }

  func requests(_ mode: String) -> [String] {
    (bench.dir.read("\(mode).state.log") ?? "").split(separator: "\n").map(String.init)
  }

  @Test func turingPiSlotsSwitchPinnedAndRefuseAChangedKey() throws {
    guard PowerBench.require(PowerBench.httpsPrograms) else { return }
    try makeCertificate("first")
    try makeCertificate("second")
    let password = "tur\"ing\\ pa55 \(bench.id)"
    try bench.secret("turingpi-bmc", password)
    try bench.secret("wrong-password", "not-\(bench.id)")
    let server = try startServer("bmc", certificate: "first", ["--user", "root", "--password", password])
    let driver = TuringPiDriver(tools: bench.tools)
    let settings = ["host": "127.0.0.1:\(server.port)", "slot": "2", "password_secret": "turingpi-bmc", "cycle_delay": "0"]
    let slots = { self.bench.dir.read("bmc.state") ?? "" }

    #expect(try bench.run(driver, .status, settings).get() == .off)
    let pinFile = "\(bench.state)/power/pins/127.0.0.1_\(server.port).pin"
    let pinned = try? String(contentsOfFile: pinFile, encoding: .utf8)
    let expected = try Command("openssl", ["x509", "-pubkey", "-noout", "-in", bench.dir.file("first.crt")], timeout: 20).check()
    #expect(pinned.flatMap(CertificatePin.parse) == CertificatePin.pin(publicKeyPEM: expected.stdoutText))

    #expect(try bench.run(driver, .on, settings).get() == .on)
    #expect(slots() == "node1 0\nnode2 1\nnode3 0\nnode4 0\n")
    #expect(try bench.run(driver, .status, settings).get() == .on)
    var slot4 = settings
    slot4["slot"] = "4"
    #expect(try bench.run(driver, .on, slot4).get() == .on)
    #expect(try bench.run(driver, .off, settings).get() == .off)
    #expect(slots() == "node1 0\nnode2 0\nnode3 0\nnode4 1\n")
    #expect(try bench.run(driver, .cycle, slot4).get() == .on)
    #expect(
      requests("bmc").filter { $0.contains("node4=") }.suffix(2) == [
        "GET /api/bmc?opt=set&type=power&node4=0", "GET /api/bmc?opt=set&type=power&node4=1",
      ])

    var wrong = settings
    wrong["password_secret"] = "wrong-password"
    _ = bench.run(driver, .on, wrong)
    #expect(bench.errors.last?.contains("refused user root with password_secret wrong-password") == true)

    // Another key on the same address: refused, with the pin file to delete, before any login.
    bench.stop(server.pid)
    let impostor = try startServer("bmc", certificate: "second", port: server.port, ["--user", "root", "--password", password])
    let before = requests("bmc").count
    _ = bench.run(driver, .on, settings)
    #expect(bench.errors.last?.contains("presented a different public key than the one pinned in \(pinFile)") == true)
    #expect(bench.errors.last?.contains("delete \(pinFile) and run the command again") == true)
    #expect(requests("bmc").count == before)
    #expect(slots() == "node1 0\nnode2 0\nnode3 0\nnode4 1\n")
    // Re-pinned as the advice says.
    try FileManager.default.removeItem(atPath: pinFile)
    #expect(try bench.run(driver, .on, settings).get() == .on)
    bench.stop(impostor.pid)

    #expect(bench.leaks().isEmpty, "\(bench.leaks())")
    let argv = bench.dir.read("tools/argv.log") ?? ""
    #expect(argv.contains("curl --config -"))
  }

  @Test func webhookSwitchesReadsStatusAndKeepsCredentialsOut() throws {
    guard PowerBench.require(PowerBench.httpsPrograms) else { return }
    try makeCertificate("hook")
    let token = "tok-\(bench.id)-secret"
    try bench.secret("pdu-token", token)
    try bench.secret("pdu-wrong", "wrong-\(bench.id)")
    let server = try startServer("webhook", certificate: "hook", ["--token", token])
    let driver = WebhookDriver(tools: bench.tools)
    let base = "https://127.0.0.1:\(server.port)/machines/{node}"
    let settings = [
      "on_uri": "\(base)/on", "off_uri": "\(base)/off", "status_uri": "\(base)/status", "on_pattern": "power: on",
      "off_pattern": "power: off", "token_secret": "pdu-token", "cycle_delay": "0",
    ]

    #expect(try bench.run(driver, .status, settings).get() == .off)
    #expect(try bench.run(driver, .on, settings).get() == .on)
    #expect(bench.dir.read("webhook.state") == "node01 on\n")
    #expect(try bench.run(driver, .status, settings).get() == .on)
    #expect(try bench.run(driver, .off, settings).get() == .off)
    #expect(try bench.run(driver, .status, settings).get() == .off)
    #expect(try bench.run(driver, .cycle, settings).get() == .on)
    #expect(requests("webhook").suffix(2) == ["POST /machines/node01/off", "POST /machines/node01/on"])
    #expect(bench.dir.read("webhook.state") == "node01 on\n")

    var wrong = settings
    wrong["token_secret"] = "pdu-wrong"
    _ = bench.run(driver, .off, wrong)
    #expect(bench.errors.last?.contains("was refused (HTTP 401) with token_secret pdu-wrong") == true)
    #expect(bench.dir.read("webhook.state") == "node01 on\n")

    // Basic auth, against a server that wants it.
    try makeCertificate("basic")
    let password = "bas1c:\(bench.id)"
    try bench.secret("pdu-password", password)
    bench.stop(server.pid)
    let basicServer = try startServer("webhook", certificate: "basic", ["--user", "admin", "--password", password])
    var basic = settings
    basic["token_secret"] = nil
    basic["user"] = "admin"
    basic["password_secret"] = "pdu-password"
    for (key, value) in basic where key.hasSuffix("_uri") {
      basic[key] = value.replacingOccurrences(of: ":\(server.port)/", with: ":\(basicServer.port)/")
    }
    #expect(try bench.run(driver, .off, basic).get() == .off)
    #expect(try bench.run(driver, .status, basic).get() == .off)

    // Plain http is refused unless allowed; allowed, it goes without a pin.
    bench.stop(basicServer.pid)
    let plainServer = try startServer("webhook", certificate: "basic", ["--token", token, "--plain"])
    var plain = settings
    for (key, value) in plain where key.hasSuffix("_uri") {
      plain[key] = value.replacingOccurrences(
        of: "https://127.0.0.1:\(server.port)/", with: "http://127.0.0.1:\(plainServer.port)/")
    }
    _ = bench.run(driver, .on, plain)
    #expect(bench.errors.last?.contains("is not an https:// URI") == true)
    #expect(bench.dir.read("webhook.state") == "node01 off\n")
    plain["allow_http"] = "true"
    #expect(try bench.run(driver, .on, plain).get() == .on)
    #expect(try bench.run(driver, .status, plain).get() == .on)
    #expect(!FileManager.default.fileExists(atPath: "\(bench.state)/power/pins/127.0.0.1_\(plainServer.port).pin"))

    #expect(bench.leaks().isEmpty, "\(bench.leaks())")
  }
}
