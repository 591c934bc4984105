import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabVMCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vm",
    abstract: "QEMU arm64 VMs the lab owns: diskless nodes that netboot from the head, switched by the lab power driver.",
    discussion: """
      A VM is registered once with the node's MAC, a kernel and initramfs (QEMU's -M virt has
      no Pi boot ROM) and the node's rendered cmdline.txt, read again at each power on. With
      'power: { driver: lab, lab: NAME }' on the node, 'piswarm power on|off|cycle|status' and
      'piswarm up' switch it: on starts QEMU (by PID, in the VM's network namespace, its tap on
      the bridge), off is QMP 'quit', status is that process. Needs root and qemu-system-arm.

      Examples:
        piswarm lab vm add node04 --mac 52:54:00:00:00:04 --kernel /srv/vmlinuz --initrd /srv/initrd.img \\
          --cmdline-file /srv/tftp/52-54-00-00-00-04/cmdline.txt --netns pslab-lab --bridge br0
        piswarm power on node04
        piswarm lab vm ls --json
        piswarm lab vm reset node04
        piswarm lab vm rm node04
      """,
    subcommands: [LabVMAdd.self, LabVMRemove.self, LabVMList.self, LabVMReset.self]
  )
}

extension GlobalOptions {
  /// A lab VM verb (`rm`, `reset`): `body` on the lab under the state lock, journaled, then
  /// `done` on stdout.
  func changingLabVM(done: String, _ body: (VirtualLab) throws(PiSwarmError) -> Void) throws {
    try reporting {
      try mutating(commandLine) { _ throws(PiSwarmError) in try body(lab()) }
      Console.out(done + "\n")
    }
  }
}
