import ArgumentParser
import Foundation
import PiSwarmCore

/// What `upgrade` and `rollback` share.
struct UpgradeOptions: ParsableArguments {
  @Flag(help: "Print the steps and change nothing.")
  var dryRun = false

  @Flag(help: "Go ahead without asking (needed when stdin is not a terminal).")
  var yes = false

  @Flag(help: "Print the plan (--dry-run) or each step's outcome as it ends, one JSON object a line, on stdout.")
  var json = false

  @Option(help: "Seconds to wait for a drained node's tasks to move.")
  var wait: Double = 300

  @Option(help: "Seconds a node has to pass its check after it restarted (SSH, dockerd, swarm Ready).")
  var checkTimeout: Double = 900

  @Option(help: "Seconds to wait for every service to be back at its replicas after a node is active again.")
  var settleTimeout: Double = 300

  @Option(name: .customLong("dnsmasq-option"), help: ArgumentHelp("An extra dnsmasq option line (tests).", visibility: .hidden))
  var dnsmasqOptions: [String] = []

  func validate() throws {
    for (name, value) in [("--wait", wait), ("--check-timeout", checkTimeout), ("--settle-timeout", settleTimeout)] {
      guard value > 0, value <= 86_400 else { throw ValidationError("\(name) must be 1 to 86400 seconds") }
    }
  }

  /// Asks on a terminal unless --yes; refuses to guess on a non-terminal.
  func confirm(_ question: String) throws(PiSwarmError) {
    try Confirmation.ask(
      question, yes: yes, advice: "add --yes to go ahead, or --dry-run to see the steps", declined: "nothing done")
  }
}
