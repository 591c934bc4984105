import ArgumentParser
import PiSwarmCore

struct PowerCycle: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cycle",
    abstract: "Cut nodes' power and switch it on again (no shutdown first), then wait until they have booted.",
    discussion: """
      For a node that hangs: the power is cut at once, as --hard does for 'power off'. The
      driver's cycle command is used when it has one; otherwise off, two seconds, on.

      Examples:
        piswarm power cycle node03
        piswarm power cycle node03 --no-wait --json
      """)

  @OptionGroup var options: PowerOptions

  @Flag(help: "Return once the driver switched, without waiting for the nodes to boot.")
  var noWait = false

  func run() throws {
    let wait = !noWait
    try PowerSession.run(.cycle, options) { control, node in control.on(node, cycle: true, wait: wait) }
  }
}
