import PiSwarmCore
import PiSwarmSystem

/// One way of switching a node's power: a command template, a ClusterHAT, a USB hub, a PoE
/// switch over SNMP, a Turing Pi BMC, a webhook, the lab. Drivers are chosen by the node's
/// `power.driver` (`PowerConfig`), looked up in `PowerDrivers`.
///
/// A driver does one thing and reports the state after it: `on` and `off` switch (returning
/// once the switch accepted it), `cycle` switches off then on, `status` reads. The graceful
/// part of `off` (asking the node to shut down over SSH and waiting) is not a driver's: the
/// command does it before calling `off`.
public protocol PowerDriver: Sendable {
  /// The driver's name in cluster.yml (`command`, `snmp-poe`, …).
  var name: String { get }

  func run(_ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext) throws(PiSwarmError) -> PowerState
}

/// What a driver may use besides the node's settings.
public struct PowerContext: Sendable {
  /// The state directory: pinned certificates live in `STATE/power/pins/`.
  public var stateDirectory: String
  /// Credentials referenced by name from the node's settings (`community_secret: NAME`, …).
  public var secrets: SecretStore
  /// The cluster, for `via: NODE` (a controller node that runs the command over SSH).
  public var cluster: Cluster
  /// Runs `command` through the system shell on `node` over piswarm's SSH (strict, pinned):
  /// exit status and output (stdout then stderr). For `via:`.
  public var runOnNode: @Sendable (_ node: Node, _ command: String) -> (status: Int32?, output: String)

  public init(
    stateDirectory: String, secrets: SecretStore, cluster: Cluster,
    runOnNode: @escaping @Sendable (_ node: Node, _ command: String) -> (status: Int32?, output: String)
  ) {
    self.stateDirectory = stateDirectory
    self.secrets = secrets
    self.cluster = cluster
    self.runOnNode = runOnNode
  }
}
