import ArgumentParser

struct PowerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "power",
    abstract: "Switch nodes' power on and off, and read it, through each node's power driver.",
    discussion: """
      Each node's driver is its power: in cluster.yml (or defaults.power): command (templates
      of your own, on the head or, with via:, on a controller node), clusterhat, uhubctl, lab,
      and none. See docs/power.md for every driver, its keys and a worked example per kind of
      hardware. Credentials are never written in cluster.yml: a key NAME_secret names a secret
      stored with 'piswarm secret set NAME'.

      TARGETS is all, managers, workers, label=KEY=VALUE, or node names (node01,node02 or
      node[01-05]), as for 'piswarm exec'. Nodes are switched in parallel (--parallel).
      A node with power: none is reported as uncontrolled, and the exit status is 1: not
      everything asked was done. Every switch is journaled in the state store.

      Examples:
        piswarm power status all
        piswarm power on node[01-05]
        piswarm power off node05            # shut down over SSH, wait, then cut
        piswarm power off --hard node05     # cut at once
        piswarm power cycle node03 --json
      """,
    subcommands: [PowerOn.self, PowerOff.self, PowerCycle.self, PowerStatus.self]
  )
}

/// What every power verb takes.
struct PowerOptions: ParsableArguments {
  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "all, managers, workers, label=KEY=VALUE, or node names.")
  var targets: String

  @Flag(help: "Print the outcome per node as JSON on stdout.")
  var json = false
}
