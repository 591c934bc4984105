import ArgumentParser
import PiSwarmCore

struct PowerOn: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "on",
    abstract: "Switch nodes on and wait until they have booted.",
    discussion: """
      Waits phase by phase (netboot nodes: DHCP, TFTP, NFS root, SSH; others: SSH) with the
      timeouts of power.boot_timeouts in cluster.yml; a node stuck in a phase is power-cycled
      (power.retries times, default once), then reported with the phase it stuck in.

      Examples:
        piswarm power on all
        piswarm power on node04 --no-wait
      """)

  @OptionGroup var options: PowerOptions

  @Flag(help: "Return once the driver switched, without waiting for the nodes to boot.")
  var noWait = false

  func run() throws {
    let wait = !noWait
    try PowerSession.run(.on, options) { control, node in control.on(node, wait: wait) }
  }
}
