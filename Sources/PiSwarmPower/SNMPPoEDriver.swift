import Foundation
import PiSwarmCore
import PiSwarmSystem

/// `snmp-poe`: a node powered by a PoE switch port, switched with POWER-ETHERNET-MIB's
/// `pethPsePortAdminEnable` through net-snmp's `snmpset`/`snmpget`. The community or the
/// SNMPv3 passphrases reach the tools in a 0600 `snmp.conf` in a private folder (SNMPCONFPATH),
/// removed after the run: never in their arguments.
public struct SNMPPoEDriver: PowerDriver {
  public let name = SNMPPoESettings.driver
  public var tools: PowerTools

  public init(tools: PowerTools = PowerTools()) {
    self.tools = tools
  }

  public func run(
    _ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext
  ) throws(PiSwarmError)
    -> PowerState
  {
    let settings = try SNMPPoESettings.parse(config.settings, node: node.name)
    let credentials = SNMPPoE.Credentials(
      community: try context.secrets.secret(named: settings.communitySecret),
      auth: try context.secrets.secret(named: settings.authSecret),
      priv: try context.secrets.secret(named: settings.privSecret))
    let secrets = [credentials.community, credentials.auth, credentials.priv].compactMap { $0 }
    let configuration = try SNMPPoE.clientConfiguration(settings, credentials: credentials)
    do {
      return try PrivateScratch.with { folder throws(PiSwarmError) in
        try AtomicFile.write(configuration, to: folder + "/snmp.conf", mode: 0o600)
        try Files.makePrivateDirectory(folder + "/persistent")
        var environment = ProcessInfo.processInfo.environment
        environment["SNMPCONFPATH"] = folder
        environment["SNMP_PERSISTENT_DIR"] = folder + "/persistent"
        environment["MIBS"] = ""
        return try perform(
          verb, cycleDelay: settings.cycleDelay,
          set: { on throws(PiSwarmError) in
            try request(tools.snmpset, SNMPPoE.setArguments(settings, on: on), settings, environment)
          },
          read: { () throws(PiSwarmError) in try request(tools.snmpget, SNMPPoE.getArguments(settings), settings, environment) })
      }
    } catch {
      throw error.redacting(secrets)
    }
  }

  private func request(
    _ tool: String, _ arguments: [String], _ settings: SNMPPoESettings, _ environment: [String: String]
  )
    throws(PiSwarmError) -> PowerState
  {
    var command = Command(tool, arguments, environment: environment, timeout: 30)
    command.outputLimit = 64 * 1024
    let output = try command.run()
    guard output.status == 0 else {
      throw SNMPPoE.failure(stderr: output.stderrText, status: output.status, settings)
    }
    return try SNMPPoE.state(fromOutput: output.stdoutText, settings)
  }
}
