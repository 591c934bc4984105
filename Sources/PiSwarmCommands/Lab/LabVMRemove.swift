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
    try global.changingLabVM(done: "\(target.node) removed") { lab throws(PiSwarmError) in
      try lab.removeVM(lab: options.name, name: target.node)
    }
  }
}
