import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabNodeArguments: ParsableArguments {
  @Argument(help: "The node, e.g. node02.")
  var node: String
}
