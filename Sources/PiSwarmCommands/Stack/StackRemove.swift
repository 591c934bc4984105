import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmStore
import PiSwarmSystem

struct StackRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove a stack: its services, networks, secrets and configs.",
    discussion: """
      'docker --context CLUSTER stack rm', then waits until the stack's services and networks are gone. A
      stack that cluster.yml's stacks: still names comes back with the next 'piswarm up'.
      Volumes stay (docker never removes them with a stack).

      Examples:
        piswarm stack rm web
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "The stack's name.")
  var name: String

  @Option(help: "Seconds to wait for the services to be gone.")
  var waitTimeout = 120.0

  func run() throws {
    try reporting {
      guard StackSpec.isValidName(name) else {
        throw PiSwarmError(.invalidInput, "\"\(TerminalText.escaped(name))\" is not a stack name")
      }
      let cli = try DockerCLI.locate(install: true) { Console.err($0) }
      try global.mutating(commandLine) { journal throws(PiSwarmError) in
        let session = try StackSession.open(global, remote)
        defer { try? session.closeMasters() }
        let label = "\(StackConfig.namespaceLabel)=\(name)"
        guard !(try session.client.services(label: label)).isEmpty else {
          throw PiSwarmError(.notFound, "no stack \(name) on the swarm", advice: "'piswarm stack ls' lists the stacks")
        }
        try session.writeContext()
        let started = Date()
        var arguments = ["--context", session.cluster.name, "stack", "rm"]
        if cli.hasDetach { arguments.append("--detach=false") }
        try cli.command(arguments + [name], timeout: waitTimeout + 30).check()
        let deadline = Deadline(in: waitTimeout)
        // Gone when its services and its networks are: the daemon removes networks after the
        // CLI returns, and a deploy of the same name meanwhile finds a network about to vanish.
        func left() throws(PiSwarmError) -> Bool {
          if try !session.client.services(label: label).isEmpty { return true }
          return try !session.client.networkNames(label: label).isEmpty
        }
        while try left() {
          guard !deadline.hasPassed else {
            throw PiSwarmError(
              .system, "the services or networks of stack \(name) are still there after \(Int(waitTimeout)) s",
              advice: "'piswarm stack ps \(name) --all' shows what is left")
          }
          usleep(250_000)
        }
        try journal.step(node: "swarm", "remove stack \(name)", .done, started: started)
      }
      if namedInClusterFile() {
        Console.err("stack \(name) removed; cluster.yml's stacks: still names it, so 'piswarm up' deploys it again")
      } else {
        Console.err("stack \(name) removed")
      }
    }
  }

  func namedInClusterFile() -> Bool {
    (try? global.loadCluster(printWarnings: false, checkAccess: false))?.cluster.stacks.contains { $0.name == name } == true
  }
}
