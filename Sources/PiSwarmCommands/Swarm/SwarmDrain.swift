import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

struct SwarmDrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "drain", abstract: "Drain a node and wait until its tasks have moved.",
    discussion: "Example:\n  piswarm swarm drain node04")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions
  @OptionGroup var options: SwarmNodeOptions

  func run() throws {
    try reporting {
      let (cluster, target) = try options.target(global)
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let (manager, _) = try remote.clients(cluster, global: global, except: target)
        try SwarmRemoval(manager: manager) { Console.err($0) }.drain(target, timeout: options.wait)
      }
      Console.out("\(target.name) drained\n")
    }
  }
}
