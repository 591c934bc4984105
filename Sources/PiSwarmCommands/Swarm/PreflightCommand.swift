import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH

struct PreflightCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "preflight",
    abstract: "Check nodes for what Docker and the swarm need, changing nothing.",
    discussion: """
      Checks, on every node at once: a 64-bit architecture; the vxlan kernel module (ip_vs
      missing is a warning: no routing mesh); the memory cgroup; the clock against the head's
      (warning above 2 s, error above 60 s); Docker; free space and the filesystem of Docker's
      data root (overlay2 refuses NFS). 'piswarm up' runs the same checks first and changes
      nothing when one fails. Exit 1 when there is an error.

      Examples:
        piswarm preflight
        piswarm preflight workers --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "all (default), managers, workers, label=KEY=VALUE, or node names.")
  var target = "all"

  @Flag(help: "Print the findings as JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let (_, nodes, transport) = try remote.session(global, target: target)
      let findings = transport.reportingNewKeys(nodes) { transport.preflight(nodes, parallel: remote.parallel) }
      try Interrupts.finish(transport, nodes)
      if json {
        Console.out(try Console.json(findings))
      } else if findings.isEmpty {
        Console.out("all \(nodes.count) node(s) passed preflight\n")
      } else {
        Console.out(PreflightTable.render(findings))
      }
      if findings.contains(where: { $0.severity == .error }) { throw Exit.failure }
    }
  }
}
