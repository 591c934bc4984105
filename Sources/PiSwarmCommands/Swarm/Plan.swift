import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

struct Plan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the actions 'piswarm up' would run, in its order, changing nothing.",
    discussion: """
      Reads every node (preflight, Docker's setup and the swarm's state) and prints the actions
      'up' would run from what it read, in the order it runs them: with netboot nodes first the
      netboot step, found by a dry run of 'piswarm netboot apply' (each node's root to make from
      defaults.image or to converge, "netboot files on head" with the number of files that would
      change, then "dnsmasq restart", "NFS exports reload" or "nfs-ganesha restart" when those
      files changed); power on and wait boot (a
      node that cannot be reached and has a power driver; the rest is then planned once it is
      up); the head's registry ("registry on head": install docker-registry, the cluster CA, the
      server certificate, configuration, start the cache and the private registry); unlock (a
      manager locked by autolock); Docker's setup (install docker.io, daemon.json, storage,
      registry CA, restart dockerd); init, join as manager or worker, promote, demote, labels,
      remove a stale entry; enable or disable autolock, keep or forget the unlock key, rotate
      join tokens (also a rotation an earlier run still owes); last, deploy each stack of
      stacks: whose services do not carry its configuration's hash (see 'piswarm stack
      deploy'), or why it cannot be (step "error"). A node left alone is shown with why (step
      "error"); a node with nothing to do as unchanged. 'up' runs exactly this list (for the same state of the nodes)
      and journals each action by the identity shown in the JSON's "action" field.
      Exit 1 when a node is left alone or preflight finds an error.

      Examples:
        piswarm plan
        piswarm plan --only docker,swarm
        piswarm plan --only netboot
        piswarm plan --json
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions
  @OptionGroup var steps: RunStepOptions
  @OptionGroup var netbootOptions: NetbootStepOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let (cluster, _, transport) = try remote.session(global, printWarnings: true)
      let memory: any SwarmMemory = global.existingSwarmMemory() ?? InMemorySwarmMemory()
      let stacks = cluster.stacks.isEmpty ? nil : (global.clusterFolder, RunSession.stackCLI(cluster, install: false))
      let observation = RunSession.observe(
        cluster, transport: transport, parallel: remote.parallel, memory: memory, stateDirectory: global.stateDirectory,
        stacks: stacks,
        netboot: (
          NetbootStep(cluster, global: global, dnsmasqExtra: netbootOptions.dnsmasqOptions), global.existingStore(),
          { Console.err($0) }
        )
      ) {
        Console.err($0)
      }
      try Interrupts.finish(transport, cluster.nodes)
      let plan = steps.apply(RunPlanner.plan(observation, cluster: cluster))
      let rows = RunSession.rows(plan, cluster: cluster)
      Console.out(json ? try Console.json(rows) : RunSession.table(rows, withStatus: false))
      if plan.blocked {
        Console.err("preflight found \(plan.findings.filter { $0.severity == .error }.count) error(s): up would change nothing")
      } else if plan.bootsFirst {
        Console.err(
          "nodes that cannot be reached are switched on first: once they are up, up reads every node again and does the rest")
      } else if plan.startsEnginesFirst {
        Console.err(
          "some nodes' dockerd waits for the Docker setup this run does: once it runs, up reads them again and plans the swarm and the stacks"
        )
      } else if plan.unlocksFirst {
        Console.err("every manager of the swarm is locked: once they are unlocked, up reads the swarm again and does the rest")
      }
      let refused = plan.actions.filter(\.isRefusal)
      if plan.blocked || !refused.isEmpty { throw Exit.failure }
    }
  }
}
