import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabStop: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stop", abstract: "Power a lab node off (dockerd stops cleanly, then the node's processes end).",
    discussion: "Example:\n  piswarm lab stop node02")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().stop(lab: options.name, node: target.node) }
      Console.out("\(target.node) stopped\n")
    }
  }
}
