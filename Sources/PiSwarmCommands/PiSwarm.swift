import ArgumentParser

/// The root command: configuration, and the options every command shares. `--file` and
/// `--state-dir` are declared here, so they may stand before the subcommand
/// (`piswarm --file X node ls`) as well as after it: the root's parse reads them wherever they
/// stand, and each subcommand's `@OptionGroup var global: GlobalOptions` receives that same
/// decoded value (ArgumentParser reuses an option group of a type already decoded up the tree).
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
    version: BuildInfo.versionLine,
    subcommands: [
      Init.self, Validate.self, DoctorCommand.self, NodeCommand.self, Plan.self, Up.self, Status.self, PreflightCommand.self,
      SwarmCommand.self,
      Exec.self, Facts.self, PowerCommand.self, StackCommand.self, ImageCommand.self, RootCommand.self, Burn.self, Serve.self,
      LabCommand.self,
      NetbootCommand.self, Discover.self,
      RegistryCommand.self,
      SecretCommand.self,
      Upgrade.self, Rollback.self,
    ]
  )

  @OptionGroup public var global: GlobalOptions

  public init() {}
}
