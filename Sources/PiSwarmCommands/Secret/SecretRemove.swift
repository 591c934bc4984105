import ArgumentParser
import PiSwarmCore
import PiSwarmSystem

struct SecretRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove a stored secret.",
    discussion: """
      Nodes whose power settings still name it fail to switch until it is stored again.

      Example:
        piswarm secret rm poe-community
      """,
    aliases: ["remove"]
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The secret to remove.")
  var name: String

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let store = SecretStore(stateDirectory: global.stateDirectory)
        guard try store.remove(name) else {
          let known = try store.all().keys.sorted()
          throw PiSwarmError(
            .notFound, "no secret named \(TerminalText.escaped(name))\(Suggestion.hint(for: name, in: known))",
            advice: "see 'piswarm secret ls'")
        }
      }
      Console.out("removed secret \(name)\n")
    }
  }
}
