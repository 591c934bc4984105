import ArgumentParser

/// The root command: configuration only.
public struct PiSwarm: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "piswarm",
    abstract: "Turn a rack of Raspberry Pis into a highly available Docker Swarm from one cluster.yml.",
    discussion: """
      piswarm reads the cluster file (--file, else $PISWARM_FILE, else ./cluster.yml) and keeps its
      own state in the state directory (--state-dir, else $PISWARM_STATE_DIR, else /var/lib/piswarm).

      Start here:
        piswarm init --name lab --address 192.168.50.1/24 --interface eth1
        piswarm node add node01 --ip 192.168.50.11 --mac b8:27:eb:12:34:56
        piswarm validate
      """,
    version: "0.1.0",
    subcommands: [
      Init.self, Validate.self, NodeCommand.self, Plan.self, Up.self, Status.self, PreflightCommand.self, SwarmCommand.self,
      Exec.self, Facts.self, ImageCommand.self, RootCommand.self,
      LabCommand.self,
      NetbootCommand.self, Discover.self,
    ]
  )

  public init() {}
}
