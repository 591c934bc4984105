import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

struct SwarmRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm", abstract: "Drain a node, demote it if a manager, make it leave, and remove it from the swarm.",
    discussion: """
      The node stays in cluster.yml (the next 'piswarm up' would join it again): remove it there
      with 'piswarm node rm NAME'.

      Example:
        piswarm swarm rm node04
      """,
    aliases: ["remove"])
  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions
  @OptionGroup var options: SwarmNodeOptions

  func run() throws {
    try reporting {
      let (cluster, target) = try options.target(global)
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let (manager, own) = try remote.clients(cluster, global: global, except: target)
        try SwarmRemoval(manager: manager) { Console.err($0) }.remove(target, client: own, timeout: options.wait)
      }
      Console.out("\(target.name) removed from the swarm; 'piswarm node rm \(target.name)' takes it out of cluster.yml\n")
    }
  }
}
