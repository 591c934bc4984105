import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lab",
    abstract: "A virtual Pi cluster on this machine: real sshd and dockerd in network namespaces.",
    discussion: """
      Each node has its own network namespace on a private lab bridge (10.231.N.0/24; nothing is
      routed out of it), its own host name, mounts, PID namespace, an OpenSSH sshd with key-only
      login and its own dockerd, with a small busybox image loaded. 'lab up' writes the lab's
      cluster.yml and prints its path last, so that 'piswarm --file PATH …' works on the lab.
      Needs root.

      Examples:
        piswarm lab up --nodes 5 --managers 3
        piswarm lab stop node02 && piswarm lab start node02
        piswarm lab down
      """,
    subcommands: [LabUp.self, LabDown.self, LabList.self, LabStop.self, LabStart.self, LabKill.self, LabVMCommand.self]
  )
}

extension GlobalOptions {
  func lab() -> VirtualLab {
    VirtualLab(stateDirectory: stateDirectory) { Console.err($0) }
  }
}
