import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

struct SecretSet: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "set",
    abstract: "Store a secret (the value from stdin, or a prompt that does not echo).",
    discussion: """
      Replaces a secret of the same name. On a terminal the value is asked twice and not echoed;
      otherwise stdin is read to its end and one trailing line break dropped.

      Examples:
        piswarm secret set turingpi-bmc
        printf '%s' "$TOKEN" | piswarm secret set pdu-token
        piswarm secret set poe-community < community.txt
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The secret's name: lowercase letters, digits, '.', '_' and '-'.")
  var name: String

  func validate() throws {
    guard Secret.isValidName(name) else {
      throw ValidationError(
        "\"\(TerminalText.escaped(name))\" is not a secret name: use lowercase letters, digits, '.', '_' and '-' (at most 64), e.g. poe-community"
      )
    }
  }

  func run() throws {
    try reporting {
      let value = try SecretInput.read(name: name)
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        try SecretStore(stateDirectory: global.stateDirectory).set(Secret(name: name, value: value))
      }
      Console.out("stored secret \(name)\n")
    }
  }
}
