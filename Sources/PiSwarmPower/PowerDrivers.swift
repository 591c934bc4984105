import PiSwarmCore

/// The drivers by name: the one place that maps `power.driver` in cluster.yml to code. Each
/// name has its row of keys in `PowerDriverKeys` (PiSwarmCore).
public enum PowerDrivers {
  public static let all: [any PowerDriver] = [
    ShellPowerDriver.command, ShellPowerDriver.clusterHAT, ShellPowerDriver.uhubctl, LabPowerDriver(),
    SNMPPoEDriver(), TuringPiDriver(), WebhookDriver(),
  ]

  /// The driver named `name`; nil for `none` and names no driver has.
  public static func driver(named name: String) -> (any PowerDriver)? { all.first { $0.name == name } }

  /// Runs `verb` for `node` through its driver, to its end, on the calling thread (a FanOut
  /// worker, so nodes switch in parallel): `uncontrolled` for `power: none`.
  public static func run(_ verb: PowerVerb, node: Node, context: PowerContext) -> Result<PowerState, PiSwarmError> {
    let config = node.power
    if config.driver == PowerConfig.none.driver { return .success(.uncontrolled) }
    guard let driver = driver(named: config.driver) else {
      return .failure(
        PiSwarmError(
          .invalidInput, "node \(node.name): no power driver \"\(config.driver)\" in this piswarm",
          advice: "drivers: \(all.map(\.name).joined(separator: ", "))"))
    }
    do throws(PiSwarmError) {
      return .success(try driver.run(verb, node: node, config: config, context: context))
    } catch {
      return .failure(error)
    }
  }
}
