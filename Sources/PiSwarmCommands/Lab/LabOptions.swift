import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabOptions: ParsableArguments {
  @Option(help: "The lab's name (at most \(LabLayout.maximumNameLength) of a-z, 0-9, '-').")
  var name = "lab"
}
