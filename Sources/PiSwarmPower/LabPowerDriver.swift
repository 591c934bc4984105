import PiSwarmCore
import PiSwarmLab
import PiSwarmSystem
import Synchronization

/// Nodes of a lab on this machine: a QEMU VM the lab owns (`piswarm lab vm add`) is switched
/// through QMP (on starts QEMU, off is QMP `quit`, status is its process); any other node is a
/// namespace node of `piswarm lab up`, started and stopped as `piswarm lab start|stop` does.
struct LabPowerDriver: PowerDriver {
  let name = "lab"

  /// A lab's record of its nodes is read, changed and written by each start: one at a time.
  static let serial = Mutex(())

  func run(_ verb: PowerVerb, node: Node, config: PowerConfig, context: PowerContext) throws(PiSwarmError) -> PowerState {
    let lab = VirtualLab(stateDirectory: context.stateDirectory)
    let name = config.settings["lab"] ?? ""
    return try Self.serial.withLock { _ throws(PiSwarmError) -> PowerState in
      if let vm = lab.loadVM(lab: name, name: node.name) { return try Self.run(verb, vm: vm, lab: lab) }
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

  /// A VM: a cycle is a new QEMU process (the kernel command line read again), as a Pi's power
  /// cycle re-reads cmdline.txt.
  static func run(_ verb: PowerVerb, vm: LabVM, lab: VirtualLab) throws(PiSwarmError) -> PowerState {
    switch verb {
    case .on: try lab.startVM(vm)
    case .off: try lab.stopVM(vm)
    case .cycle:
      try lab.stopVM(vm)
      // The record again: stopVM leaves the PID, startVM writes the new one.
      try lab.startVM(lab.loadVM(lab: vm.lab, name: vm.name) ?? vm)
    case .status: break
    }
    let current = lab.loadVM(lab: vm.lab, name: vm.name) ?? vm
    return lab.runningPID(current) != nil ? .on : .off
  }
}
