import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

/// What `upgrade` and `rollback` do after their own checks: observe, plan, print or ask, run,
/// report. Exit 0 when every step went, 1 when the run stopped at a failure, 64 when nothing
/// could be planned.
enum UpgradeRun {
  static func run(
    _ kind: UpgradeKind, targets: String, canary: String?, options: UpgradeOptions, remote: RemoteOptions,
    global: GlobalOptions, apt: String = "full-upgrade", validate: (Cluster, SQLiteStateStore) throws(PiSwarmError) -> Void
  ) throws {
    var failed = false
    try reporting {
      let loaded = try global.loadCluster(printWarnings: false)
      let nodes = try Targets.resolve(targets, in: loaded.cluster).get()
      guard !nodes.isEmpty else { throw PiSwarmError(.invalidInput, "target \"\(targets)\" matches no node") }
      if let canary, !nodes.contains(where: { $0.name == canary }) {
        throw PiSwarmError(
          .invalidInput,
          "the canary \(canary) is not among the targeted nodes\(Suggestion.hint(for: canary, in: nodes.map(\.name)))",
          advice: "name one of \(nodes.map(\.name).joined(separator: ", "))")
      }
      let transport = remote.transport(loaded.cluster, global: global)
      try transport.prepare()
      // Ctrl-C lets the step under way end (a root half made is never switched to) and starts no other.
      Interrupts.install(signalChildren: false) { transport.closeMasters(nodes) }
      let session = UpgradeSession(
        kind: kind, cluster: loaded.cluster, global: global, options: options, transport: transport, apt: apt)
      let plan = try global.mutating(commandLine) { (journal) throws(PiSwarmError) -> UpgradePlan in
        try validate(loaded.cluster, journal.store)
        let (candidates, managers, unreachable) = try session.candidates(nodes, store: journal.store)
        let plan = UpgradePlanner.plan(
          kind, candidates: candidates, canary: canary, managers: managers, unreachableManagers: unreachable)
        for refusal in plan.refused {
          Console.err("\(refusal.node): left alone: \(refusal.reason) (\(refusal.advice))")
          try journal.step(node: refusal.node, "\(session.kindName) plan", .refused, started: Date(), error: refusal.reason)
        }
        for warning in plan.warnings { Console.err("warning: \(warning)") }
        return plan
      }
      if options.dryRun {
        Console.out(options.json ? try Console.json(plan) : plan.table)
        return
      }
      guard !plan.order.isEmpty else {
        throw PiSwarmError(
          .invalidInput, "nothing to \(session.kindName): every targeted node was left alone (see above)",
          advice: "'\(session.kindName) --dry-run' shows the plan")
      }
      if !options.json { Console.err(plan.table) }
      try options.confirm("\(session.kindName) \(plan.order.joined(separator: ", ")), one at a time, in this order?")
      let outcomes = try global.mutating(commandLine) { (journal) throws(PiSwarmError) -> [UpgradeSequence.Outcome] in
        session.run(plan, journal: journal)
      }
      let advice = session.stoppedAdvice(outcomes)
      for line in advice { Console.err(line) }
      try Interrupts.finish(transport, nodes)
      transport.closeMasters(nodes)
      if advice.isEmpty {
        Console.err("\(plan.order.count) node\(plan.order.count == 1 ? "" : "s") done: \(plan.order.joined(separator: ", "))")
      }
      failed = !advice.isEmpty
    }
    if failed { throw Exit.failure }
  }
}
