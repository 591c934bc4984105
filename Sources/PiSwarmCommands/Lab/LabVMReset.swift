import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabVMReset: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reset", abstract: "Press a lab VM's reset button (QMP system_reset): it reboots in the same QEMU process.",
    discussion: "Example:\n  piswarm lab vm reset node04")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try global.changingLabVM(done: "\(target.node) reset") { lab throws(PiSwarmError) in
      try lab.resetVM(lab: options.name, name: target.node)
    }
  }
}
