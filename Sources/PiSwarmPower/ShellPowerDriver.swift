import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Drivers that switch power with a shell command, on the head or, with `via: NODE`, on that
/// node over piswarm's SSH: `command` (the user's templates), and two presets, `clusterhat`
/// (`clusterctrl on|off pN`) and `uhubctl` (`uhubctl -l LOCATION -p PORT -a on|off|cycle`).
public struct ShellPowerDriver: PowerDriver {
  /// The shell text for each verb (nil: the driver has none) and how to read a status.
  public struct Commands: Sendable {
    public var on: String
    public var off: String
    public var cycle: String?
    public var status: String?
    public var reading: @Sendable (_ output: String, _ status: Int32) -> PowerState
    /// Whether `on` and `off` print the state they leave (uhubctl does).
    public var switchPrintsState = false
  }

  public let name: String
  let commands: @Sendable (Node, PowerConfig) -> Result<Commands, PiSwarmError>

  public func run(
    _ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext
  ) throws(PiSwarmError) -> PowerState {
    let commands = try commands(node, config).get()
    let runner = try ShellRunner(node: node, config: config, context: context)
    switch verb {
    case .status:
      guard let status = commands.status else { return .unknown }
      let (code, output) = try runner.run(status, verb: verb, checked: false)
      return commands.reading(output, code)
    case .on, .off:
      let (_, output) = try runner.run(verb == .on ? commands.on : commands.off, verb: verb)
      let read = commands.reading(output, 0)
      // A switch that prints the new state (uhubctl) says so; otherwise the switch's word.
      return commands.switchPrintsState && read != .unknown ? read : (verb == .on ? .on : .off)
    case .cycle:
      if let cycle = commands.cycle {
        _ = try runner.run(cycle, verb: verb)
      } else {
        _ = try runner.run(commands.off, verb: .off)
        usleep(2_000_000)
        _ = try runner.run(commands.on, verb: .on)
      }
      return .on
    }
  }

  // MARK: - The drivers

  /// The user's templates: `on`, `off`, optional `cycle` and `status` (read by `on_pattern`,
  /// `off_pattern`, or its exit status).
  public static let command = ShellPowerDriver(name: "command") { node, config in
    let port = config.settings["port"]
    func render(_ key: String) -> Result<String?, PiSwarmError> {
      guard let template = config.settings[key] else { return .success(nil) }
      return PowerTemplate.render(template, node: node, port: port).map { $0 }
    }
    do throws(PiSwarmError) {
      guard let on = try render("on").get(), let off = try render("off").get() else {
        throw PiSwarmError(
          .invalidInput, "node \(node.name): the command driver needs on and off", advice: "see 'piswarm validate'")
      }
      let onPattern = config.settings["on_pattern"]
      let offPattern = config.settings["off_pattern"]
      return .success(
        Commands(
          on: on, off: off, cycle: try render("cycle").get(), status: try render("status").get(),
          reading: { output, status in
            PowerStatusReading.byPattern(output: output, status: status, onPattern: onPattern, offPattern: offPattern)
          }))
    } catch {
      return .failure(error)
    }
  }

  /// A ClusterHAT (or Cluster CTRL) port, switched by `clusterctrl` on the controller Pi.
  public static let clusterHAT = ShellPowerDriver(name: "clusterhat") { node, config in
    let port = config.settings["port"] ?? ""
    return .success(
      Commands(
        on: "clusterctrl on p\(Shell.quote(port))", off: "clusterctrl off p\(Shell.quote(port))", cycle: nil,
        status: "clusterctrl status",
        reading: { output, _ in PowerStatusReading.clusterHAT(output, port: port) }))
  }

  /// A port of a USB hub with per-port power switching.
  public static let uhubctl = ShellPowerDriver(name: "uhubctl") { node, config in
    let port = config.settings["port"] ?? ""
    let base = "uhubctl -l \(Shell.quote(config.settings["location"] ?? "")) -p \(Shell.quote(port))"
    return .success(
      Commands(
        on: base + " -a on", off: base + " -a off", cycle: base + " -a cycle", status: base,
        reading: { output, _ in PowerStatusReading.uhubctl(output, port: port) }, switchPrintsState: true))
  }
}

/// Runs a driver's shell text where the node's settings say, with its secrets in the
/// environment (head only) and never in what it reports.
struct ShellRunner {
  let node: Node
  let context: PowerContext
  let via: Node?
  let timeout: Double
  /// Each secret with the environment variable it goes in.
  let secrets: [(variable: String, secret: Secret)]

  init(node: Node, config: PowerConfig, context: PowerContext) throws(PiSwarmError) {
    self.node = node
    self.context = context
    timeout = config.settings["timeout"].flatMap(Double.init) ?? 30
    if let name = config.settings["via"] {
      guard let controller = context.cluster.node(named: name) else {
        throw PiSwarmError(
          .invalidInput, "node \(node.name): power via \"\(name)\" is not a node of cluster \(context.cluster.name)",
          advice: "add the controller under nodes, or fix via:")
      }
      via = controller
    } else {
      via = nil
    }
    var secrets: [(String, Secret)] = []
    for key in config.settings.keys.sorted() where key.hasSuffix("_secret") {
      guard let name = config.settings[key] else { continue }
      secrets.append((Self.variable(key), try context.secrets.secret(name)))
    }
    self.secrets = secrets
  }

  /// `token_secret: NAME` reaches the command as `$PISWARM_TOKEN`.
  static func variable(_ key: String) -> String {
    "PISWARM_" + key.dropLast("_secret".count).uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
  }

  var environment: [String: String]? {
    guard !secrets.isEmpty else { return nil }
    var environment = ProcessInfo.processInfo.environment
    for (variable, secret) in secrets { environment[variable] = secret.value }
    return environment
  }

  /// Every secret's value replaced by its name.
  func redacted(_ text: String) -> String {
    var text = text
    for (_, secret) in secrets where !secret.value.isEmpty {
      text = text.replacingOccurrences(of: secret.value, with: "\(secret)")
    }
    return text
  }

  /// Runs `text`; with `checked`, a status other than 0 is an error that shows the (redacted)
  /// output.
  func run(_ text: String, verb: PowerVerb, checked: Bool = true) throws(PiSwarmError) -> (Int32, String) {
    let code: Int32?
    let output: String
    let place: String
    if let via {
      place = "on \(via.name)"
      (code, output) = context.runOnNode(via, text)
    } else {
      place = "on the head"
      var command = Command("/bin/sh", ["-c", text], environment: environment, timeout: timeout)
      command.outputLimit = 1 << 20
      let result = try command.run()
      code = result.timedOut ? nil : result.status
      output = result.stdoutText + result.stderrText
    }
    let shown = redacted(output)
    guard let code else {
      let advice =
        via.map { "check that \($0.name) is reachable: 'piswarm exec \($0.name) -- true'" }
        ?? "it ran longer than timeout (\(Int(timeout)) s): raise timeout: or check the command"
      throw PiSwarmError(
        .system, "node \(node.name): power \(verb.rawValue) \(place) did not finish", advice: advice, cause: Self.tail(shown))
    }
    if checked && code != 0 {
      throw PiSwarmError(
        .system, "node \(node.name): power \(verb.rawValue) \(place) failed with status \(code)",
        advice: "run it by hand to see why: \(text)", cause: Self.tail(shown))
    }
    return (code, shown)
  }

  static func tail(_ text: String) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return trimmed.count > 400 ? "…" + String(trimmed.suffix(400)) : trimmed
  }
}
