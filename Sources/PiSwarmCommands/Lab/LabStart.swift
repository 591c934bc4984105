import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabStart: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start", abstract: "Power a lab node on and wait until sshd and dockerd answer.",
    discussion: "Example:\n  piswarm lab start node02")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().start(lab: options.name, node: target.node) }
      Console.out("\(target.node) running\n")
    }
  }
}
