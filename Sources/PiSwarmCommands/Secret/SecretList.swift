import ArgumentParser
import PiSwarmCore
import PiSwarmSystem

struct SecretList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the stored secrets' names (never their values).",
    discussion: """
      Examples:
        piswarm secret ls
        piswarm secret ls --json | jq -r '.[].name'
      """,
    aliases: ["list"]
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let entries = SecretListing.entries(try SecretStore(stateDirectory: global.stateDirectory).all().keys)
      Console.out(json ? try Console.json(entries) : SecretListing.table(entries))
    }
  }
}
