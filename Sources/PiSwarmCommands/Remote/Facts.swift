import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

struct Facts: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Gather facts from nodes: architecture, board, OS, kernel, memory, disk, temperature, Docker, swarm.",
    discussion: """
      The facts are stored in the state store with the time they were read. Exit 1 when a node
      could not be reached (the others are still read and stored).

      Examples:
        piswarm facts
        piswarm facts workers --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "all (default), managers, workers, label=KEY=VALUE, or node names.")
  var target = "all"

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Entry: Encodable {
    var node: String
    var ok: Bool
    var facts: [String: String]
    var error: String?
  }

  func run() throws {
    try reporting {
      let (_, nodes, transport) = try remote.session(global, target: target)
      let results = transport.reportingNewKeys(nodes) {
        transport.run(on: nodes, NodeFacts.script.command(), parallel: remote.parallel)
      }
      try Interrupts.finish(transport, nodes)
      let now = Date()
      let entries = results.map { result in
        Entry(
          node: result.node, ok: result.ok, facts: result.ok ? NodeFacts.parse(result.stdout) : [:],
          error: result.ok ? nil : result.message)
      }
      try global.mutating(commandLine) { journal throws(PiSwarmError) in
        for entry in entries where entry.ok { try journal.store.setFacts(node: entry.node, facts: entry.facts, at: now) }
      }
      if json {
        Console.out(try Console.json(entries))
      } else {
        Console.out(FactsTable.render(entries.map { ($0.node, $0.facts, $0.error) }))
      }
      if results.contains(where: { !$0.ok }) {
        Console.err(results.summary())
        throw Exit.failure
      }
    }
  }
}
