import PiSwarmCore
import PiSwarmSystem

/// `turingpi`: a node in a slot of a Turing Pi 2, switched through the BMC's HTTPS API
/// (firmware 2.x): log in for a bearer token, then `opt=set&type=power&nodeN=1|0` or
/// `opt=get&type=power`. The BMC's key is pinned on first use (`STATE/power/pins/`).
public struct TuringPiDriver: PowerDriver {
  public let name = TuringPiSettings.driver
  public var tools: PowerTools

  public init(tools: PowerTools = PowerTools()) {
    self.tools = tools
  }

  public func run(
    _ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext
  ) throws(PiSwarmError)
    -> PowerState
  {
    let settings = try TuringPiSettings.parse(config.settings, node: node.name)
    let password = try context.secrets.secret(settings.passwordSecret)
    guard password.value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
      throw PiSwarmError(
        .invalidInput, "secret \(password.name) holds a line break or control character, which no BMC password has",
        advice: "store it again with `piswarm secret set \(password.name)`")
    }
    let https = PinnedHTTPS(tools: tools, stateDirectory: context.stateDirectory)
    var secrets = [password]
    do {
      let token = try TuringPiAPI.token(
        from: try https.send(TuringPiAPI.authenticate(settings, password: password), to: settings.bmc), settings)
      secrets.append(token)
      return try perform(
        verb, cycleDelay: settings.cycleDelay,
        set: { on throws(PiSwarmError) in
          try TuringPiAPI.checkSet(
            try https.send(TuringPiAPI.setPower(settings, on: on, token: token), to: settings.bmc), settings)
          return on ? .on : .off
        },
        read: { () throws(PiSwarmError) in
          try TuringPiAPI.state(from: try https.send(TuringPiAPI.getPower(settings, token: token), to: settings.bmc), settings)
        })
    } catch {
      throw error.redacting(secrets)
    }
  }
}
