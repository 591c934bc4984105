import ArgumentParser
import PiSwarmCore

struct PowerOff: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "off",
    abstract: "Shut nodes down over SSH, wait until they are down, then cut their power.",
    discussion: """
      Without --hard each node is first asked to shut down (systemctl poweroff, or its init's
      shutdown) and given power.shutdown_timeout seconds (default 60) until its SSH is gone
      (and, when its driver can tell, its power reads off); then the power is cut. A node whose
      SSH does not answer has its power cut at once, and the outcome says so.

      Examples:
        piswarm power off node05
        piswarm power off --hard workers
      """)

  @OptionGroup var options: PowerOptions

  @Flag(help: "Cut the power at once, without asking the nodes to shut down.")
  var hard = false

  func run() throws {
    let hard = hard
    try PowerSession.run(.off, options) { control, node in control.off(node, hard: hard) }
  }
}
