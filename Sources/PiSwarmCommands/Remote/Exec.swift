import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

struct Exec: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a command on many nodes at once over SSH.",
    discussion: """
      TARGET is all, managers, workers, label=KEY=VALUE, or node names (node01,node02 or
      node[01-05]). Each word after -- is quoted for the remote shell as it is; for shell syntax
      run a shell: -- sh -c 'echo $HOSTNAME'. Output is grouped per node (or streamed with
      --stream); exit 1 when any node failed, with a summary of which and why on stderr.

      Examples:
        piswarm exec all -- uptime
        piswarm exec workers --stream -- journalctl -n 5
        piswarm exec label=rack=a --json -- cat /etc/os-release
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "all, managers, workers, label=KEY=VALUE, or node names.")
  var target: String

  @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
  var command: [String] = []

  @Flag(help: "Print lines as they come, prefixed with the node name.")
  var stream = false

  @Flag(help: "Print the results as JSON on stdout.")
  var json = false

  func validate() throws {
    guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. piswarm exec all -- uptime") }
    if stream && json { throw ValidationError("--stream and --json do not go together") }
  }

  func run() throws {
    try reporting {
      let (_, nodes, transport) = try remote.session(global, target: target)
      guard !nodes.isEmpty else { throw PiSwarmError(.invalidInput, "target \"\(target)\" matches no node") }
      let printer = LinePrinter(width: nodes.map(\.name.count).max() ?? 0)
      var onOutput: (@Sendable (Node, Data, Bool) -> Void)? = nil
      if stream { onOutput = { node, data, isError in printer.add(node.name, data, isError: isError) } }
      let results = transport.reportingNewKeys(nodes) {
        transport.run(on: nodes, command, parallel: remote.parallel, onOutput: onOutput)
      }
      if stream { printer.flush() }
      try Interrupts.finish(transport, nodes)
      if json {
        Console.out(try Console.json(results))
      } else if !stream {
        Console.out(ExecOutput.grouped(results))
      }
      Console.err(results.summary())
      if results.contains(where: { !$0.ok }) { throw Exit.failure }
    }
  }
}
