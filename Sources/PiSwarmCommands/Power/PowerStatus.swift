import ArgumentParser
import PiSwarmCore

struct PowerStatus: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Read nodes' power from their drivers: on, off, unknown or uncontrolled.",
    discussion: """
      unknown: the driver answered but not in a way that says (a status pattern that matched
      nothing, a driver without a status command). uncontrolled: power: none.

      Examples:
        piswarm power status all
        piswarm power status workers --json
      """)

  @OptionGroup var options: PowerOptions

  func run() throws {
    try PowerSession.run(.status, options) { control, node in control.status(node) }
  }
}
