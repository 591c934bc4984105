import Foundation
import PiSwarmCore
import PiSwarmPower
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// What the network power drivers' tests share: a folder with a state directory and its
/// secrets, the drivers' tools behind recorders (`Fixtures/record-tool.sh`, which log every
/// command line and environment, and can run the tool in a network namespace), the processes
/// the test started (ended by PID in `cleanUp`), and the check that no credential leaked.
final class PowerBench {
  let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
  let dir = TemporaryDirectory("piswarm-power")
  var pids: [pid_t] = []
  var namespaces: [String] = []
  var credentials: [String] = []

  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

  var state: String { dir.file("state") }
  var toolFolder: String { dir.file("tools") }

  init() throws {
    try FileManager.default.createDirectory(atPath: toolFolder, withIntermediateDirectories: true)
    for tool in ["snmpset", "snmpget", "curl", "openssl"] {
      try FileManager.default.createSymbolicLink(
        atPath: "\(toolFolder)/\(tool)", withDestinationPath: "\(Self.fixtures)/record-tool.sh")
    }
  }

  /// What the snmp-poe and the HTTPS drivers' tests need.
  static let snmpPrograms = ["ip", "nsenter", "snmpd", "snmpset", "snmpget", "python3"]
  static let httpsPrograms = ["curl", "openssl", "python3"]

  static func missing(_ programs: [String]) -> [String] {
    var missing = programs.filter { Command.resolve($0) == nil }
    if getuid() != 0 { missing.append("root") }
    return missing
  }

  static func require(_ programs: [String]) -> Bool {
    let missing = missing(programs)
    guard missing.isEmpty else {
      Issue.record("power driver test prerequisites missing: \(missing.joined(separator: ", ")); run 'make deps' as root")
      return false
    }
    return true
  }

  var tools: PowerTools {
    var tools = PowerTools()
    tools.snmpset = "\(toolFolder)/snmpset"
    tools.snmpget = "\(toolFolder)/snmpget"
    tools.curl = "\(toolFolder)/curl"
    tools.openssl = "\(toolFolder)/openssl"
    return tools
  }

  /// Stores a secret, remembered as a credential that must not leak.
  func secret(_ name: String, _ value: String) throws {
    try SecretStore(stateDirectory: state).set(Secret(name: name, value: value))
    credentials.append(value)
  }

  static let cluster: Cluster = {
    let text = """
      version: 1
      name: powertest
      head:
        interface: eth1
        address: 10.42.0.250/24
        lan: dhcp
      nodes:
        - name: node01
          ip: 10.42.0.1
          mac: b8:27:eb:00:00:01
      """
    guard let cluster = ClusterFile.decode(text: text + "\n").cluster else { fatalError("the test cluster does not decode") }
    return cluster
  }()

  var context: PowerContext {
    PowerContext(
      stateDirectory: state, secrets: SecretStore(stateDirectory: state), cluster: Self.cluster,
      runOnNode: { _, _ in (nil, "not used by network drivers") })
  }

  var node: Node { Self.cluster.nodes[0] }

  /// Runs a driver; returns the state or the error's full text.
  func run(_ driver: some PowerDriver, _ verb: PowerVerb, _ settings: [String: String]) -> Result<PowerState, PiSwarmError> {
    do throws(PiSwarmError) {
      return .success(
        try driver.run(verb, node: node, config: PowerConfig(driver: driver.name, settings: settings), context: context))
    } catch {
      errors.append("\(error)")
      return .failure(error)
    }
  }

  var errors: [String] = []

  /// Every place a credential could have reached: the tools' command lines and environments,
  /// the errors' texts, every file in the state directory but the secrets file itself.
  func leaks() -> [String] {
    var places: [(String, String)] = [
      ("argv", dir.read("tools/argv.log") ?? ""), ("environment", dir.read("tools/env.log") ?? ""),
      ("errors", errors.joined(separator: "\n")),
    ]
    let enumerator = FileManager.default.enumerator(atPath: state)
    while let name = enumerator?.nextObject() as? String {
      guard name != SecretsFile.name else { continue }
      places.append(("state/\(name)", (try? String(contentsOfFile: "\(state)/\(name)", encoding: .utf8)) ?? ""))
    }
    var found: [String] = []
    for credential in credentials {
      let encoded = Data(credential.utf8).base64EncodedString()
      for (place, text) in places where text.contains(credential) || text.contains(encoded) {
        found.append("credential #\(credentials.firstIndex(of: credential) ?? 0) in \(place)")
      }
    }
    return found
  }

  /// Starts `arguments` detached (its output in `log`), remembered for `cleanUp`.
  func start(_ arguments: [String], log: String, environment: [String: String] = [:]) throws -> pid_t {
    var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
    for (key, value) in environment { env[key] = value }
    let pid = try Processes.spawnDetached(arguments, environment: env, log: log)
    pids.append(pid)
    return pid
  }

  func stop(_ pid: pid_t) {
    Cleanup.kill([pid])
    pids.removeAll { $0 == pid }
  }

  func makeNamespace(_ name: String) throws {
    try Command("ip", ["netns", "add", name], timeout: 20).check()
    namespaces.append(name)
    try Command("ip", ["-n", name, "link", "set", "lo", "up"], timeout: 20).check()
  }

  func cleanUp() {
    Cleanup.kill(pids)
    for namespace in namespaces { Cleanup.deleteNamespace(namespace) }
  }

  @discardableResult
  func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if condition() { return true }
      usleep(100_000)
    }
    return condition()
  }
}
