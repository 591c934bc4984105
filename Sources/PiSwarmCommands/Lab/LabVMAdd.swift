import ArgumentParser
import PiSwarmCore
import PiSwarmLab
import PiSwarmSystem

struct LabVMAdd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add", abstract: "Register a QEMU arm64 VM as a node of the lab (powered off).",
    discussion: """
      Example:
        piswarm lab vm add node04 --mac 52:54:00:00:00:04 --kernel /srv/vmlinuz --initrd /srv/initrd.img \\
          --cmdline-file /srv/tftp/52-54-00-00-00-04/cmdline.txt
      """)
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @Argument(help: "The VM's node name in cluster.yml, e.g. node04.") var node: String
  @Option(help: "The VM's MAC address (the node's mac: in cluster.yml).") var mac: String
  @Option(help: "The arm64 kernel (Image or vmlinuz).") var kernel: String
  @Option(help: "The initramfs that mounts the NFS root.") var initrd: String
  @Option(help: "The node's cmdline.txt, read at each power on.") var cmdlineFile: String
  @Option(help: "Memory in MiB.") var memory = 768
  @Option(help: "Virtual CPUs.") var cpus = 1
  @Option(help: "QEMU's TCG translation buffer in MiB (QEMU's default of 1024 doubles a VM's memory).") var tbSize = 256
  @Option(help: "The network namespace of the bridge (default: the lab's switch, pslab-NAME).") var netns: String?
  @Option(help: "The bridge in that namespace.") var bridge = "br0"

  func run() throws {
    try reporting {
      let vm = LabVM(
        name: node, lab: options.name, mac: mac, kernel: Files.absolute(kernel), initrd: Files.absolute(initrd),
        cmdlineFile: Files.absolute(cmdlineFile), memoryMiB: memory, cpus: cpus, tbSizeMiB: tbSize,
        namespace: netns ?? "pslab-\(options.name)", bridge: bridge)
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().addVM(vm) }
      Console.out("\(node) added to lab \(options.name) (off)\n")
    }
  }
}
