import ArgumentParser
import PiSwarmCore

struct Rollback: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rollback",
    abstract: "Boot netboot nodes from their previous root generation again.",
    discussion: """
      For each node, one at a time (managers last): drained when it is in the swarm and Ready,
      shut down and switched off, its Docker storage put into the previous root, cmdline.txt
      and its NFS export pointed at that root, switched on, checked and made active again. The
      root it left becomes the previous one (a second rollback goes forward again) and is kept
      until 'piswarm root prune'.

      Examples:
        piswarm rollback node05 --yes
        piswarm rollback all --dry-run
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: UpgradeOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "all, or the nodes to roll back (node05, node[01-03], managers, workers).")
  var targets: String

  func run() throws {
    try UpgradeRun.run(.rollback, targets: targets, canary: nil, options: options, remote: remote, global: global) { _, _ in }
  }
}
