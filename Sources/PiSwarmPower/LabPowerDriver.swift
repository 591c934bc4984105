import PiSwarmCore
import PiSwarmLab
import PiSwarmSystem
import Synchronization

/// Nodes of a lab on this machine (`piswarm lab up`): started and stopped as `piswarm lab
/// start|stop` does (`VirtualLab`). Lab nodes are namespaces today; QEMU lab VMs (switched
/// through QMP) come with the lab's VMs (issue #14).
struct LabPowerDriver: PowerDriver {
  let name = "lab"

  /// A lab's record of its nodes is read, changed and written by each start: one at a time.
  static let serial = Mutex(())

  func run(_ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext) throws(PiSwarmError) -> PowerState {
    let lab = VirtualLab(stateDirectory: context.stateDirectory)
    let name = config.settings["lab"] ?? ""
    return try Self.serial.withLock { _ throws(PiSwarmError) -> PowerState in
      switch verb {
      case .on:
        try lab.start(lab: name, node: node.name)
        return .on
      case .off:
        try lab.stop(lab: name, node: node.name)
        return .off
      case .cycle:
        try lab.stop(lab: name, node: node.name)
        try lab.start(lab: name, node: node.name)
        return .on
      case .status:
        guard let status = lab.status(name: name).first(where: { $0.name == node.name }) else {
          throw PiSwarmError(
            .notFound, "node \(node.name): lab \(name) has no such node", advice: "'piswarm lab ls' lists the labs")
        }
        return status.running ? .on : .off
      }
    }
  }
}
