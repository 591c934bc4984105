import ArgumentParser
import PiSwarmCore
import PiSwarmStore

struct Upgrade: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "upgrade",
    abstract: "Move nodes to a new OS image, or upgrade their packages, one at a time with a way back.",
    discussion: """
      --image NEW (netboot nodes): each node gets a new root generation made from NEW with its
      identity carried over (host key, machine-id) and its Docker storage shared (it keeps its
      swarm identity), is drained, shut down and switched off, its cmdline.txt and NFS export
      pointed at the new root, switched on, checked (SSH with the pinned key, dockerd, Ready in
      the swarm), made active again, and the swarm's services are waited for; then the next
      node. The previous root stays: 'piswarm rollback NODE' boots it.

      --packages (any node): the distribution's upgrade (apt-get full-upgrade) on the drained
      node, a restart when /run/reboot-required asks for one, the same check; netboot nodes get
      a copy of their root first, as the previous generation (the way back).

      Before each drain, a replicated service whose running tasks are all on the node gets one
      more replica, started on another node, and is scaled back once it runs there: the drain
      never stops a service whole (a 1-replica service is named as briefly unavailable).

      Order: the canary first, then workers, then managers (the leader last); a manager only
      while every other manager is reachable. The run stops at the first failure: a node that
      fails its check stays drained on its new root, for you to look at and roll back.

      Examples:
        piswarm image import raspios-2025-10.img.xz --name raspios-2025-10
        piswarm upgrade --image raspios-2025-10 --dry-run
        piswarm upgrade --image raspios-2025-10 --canary node05 --yes
        piswarm upgrade --packages workers --canary node04 --json --yes
        piswarm rollback node05
        piswarm root prune
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: UpgradeOptions
  @OptionGroup var remote: RemoteOptions

  @Argument(help: "all, managers, workers, label=KEY=VALUE, or node names (node01,node02 or node[01-03]).")
  var targets = "all"

  @Option(help: "The imported image to move netboot nodes to ('piswarm image ls').")
  var image: String?

  @Flag(help: "Upgrade the distribution's packages instead.")
  var packages = false

  @Option(help: "The node to do first; nothing else is touched unless it passes.")
  var canary: String?

  @Option(name: .customLong("apt"), help: ArgumentHelp("full-upgrade, or simulate (tests).", visibility: .hidden))
  var apt = "full-upgrade"

  func validate() throws {
    if (image == nil) == !packages {
      throw ValidationError("give either --image NAME or --packages")
    }
    guard ["full-upgrade", "simulate"].contains(apt) else { throw ValidationError("--apt must be full-upgrade or simulate") }
  }

  func run() throws {
    let kind: UpgradeKind = image.map { .image($0) } ?? .packages
    try UpgradeRun.run(
      kind, targets: targets, canary: canary, options: options, remote: remote, global: global, apt: apt
    ) { (_, store) throws(PiSwarmError) in
      guard let image else { return }
      guard try store.image(named: image) != nil else {
        let known = try store.images().map(\.name)
        throw PiSwarmError(
          .notFound, "no image named \(image) is imported\(Suggestion.hint(for: image, in: known))",
          advice: "import it with 'piswarm image import FILE --name \(image)'; 'piswarm image ls' lists the images")
      }
    }
  }
}
