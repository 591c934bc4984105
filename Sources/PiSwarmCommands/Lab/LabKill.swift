import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabKill: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kill", abstract: "Crash a lab node's dockerd (SIGKILL); the node itself keeps running.",
    discussion: "Example:\n  piswarm lab kill node01")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.lab().killDocker(lab: options.name, node: target.node)
      Console.out("\(target.node): dockerd killed\n")
    }
  }
}
