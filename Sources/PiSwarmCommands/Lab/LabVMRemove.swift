import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabVMRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm", abstract: "Power a lab VM off and forget it.", discussion: "Example:\n  piswarm lab vm rm node04")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        try global.lab().removeVM(lab: options.name, name: target.node)
      }
      Console.out("\(target.node) removed\n")
    }
  }
}
