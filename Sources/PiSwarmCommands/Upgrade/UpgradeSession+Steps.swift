import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmImages
import PiSwarmNetboot
import PiSwarmPower
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Each step of an upgrade or rollback, on one node.
extension UpgradeSession {
  func perform(
    _ step: UpgradePlan.Step, _ node: Node, control: PowerControl, store: SQLiteStateStore
  ) throws(PiSwarmError) -> UpgradeSequence.Result {
    switch step.action {
    case .root: return .done(try makeRoot(node, store: store))
    case .snapshot: return .done(try snapshot(node, store: store))
    case .spread: return try spread(node)
    case .drain:
      guard let manager = manager(except: node) else { return .failed("no manager answers to drain \(node.name)") }
      try SwarmRemoval(manager: manager) { Console.err($0) }.drain(node, timeout: options.wait)
      return .done(nil)
    case .powerOff:
      let outcome = control.off(node, hard: false)
      transport.closeMasters([node])
      if let error = outcome.error { return .failed(error) }
      return .done(outcome.notes.joined(separator: "; "))
    case .switchRoot: return .done(try switchRoot(node, store: store))
    case .powerOn:
      let outcome = control.on(node, wait: true)
      if let error = outcome.error { return .failed(error) }
      return .done(outcome.notes.isEmpty ? nil : outcome.notes.joined(separator: "; "))
    case .upgrade: return upgradePackages(node)
    case .reboot:
      guard rebootNeeded.contains(node.name) else { return .skipped("no restart asked for (/run/reboot-required)") }
      return restart(node, control: control)
    case .check: return check(node, inSwarm: swarmMembers.contains(node.name))
    case .activate:
      guard let manager = manager(except: node) else { return .failed("no manager answers to activate \(node.name)") }
      let entry = try SwarmRemoval(manager: manager).find(node)
      try manager.updateNode(entry.ID) { $0.Availability = .active }
      return .done(nil)
    case .settle: return settle(node)
    }
  }

  // MARK: Spreading

  /// Before the drain: every replicated service whose running tasks are all on `node` gets a
  /// task on another node first (`ServiceSpreading`); 1-replica services are named as briefly
  /// unavailable. Skipped when no service needs it.
  func spread(_ node: Node) throws(PiSwarmError) -> UpgradeSequence.Result {
    guard let manager = manager(except: node) else { return .failed("no manager answers to spread services off \(node.name)") }
    let entry = try SwarmRemoval(manager: manager).find(node)
    let spreading = ServiceSpreading(manager: manager) { Console.err($0) }
    let needs = try spreading.needs(draining: entry)
    let summary = ServiceSpread.summary(needs, node: node.name)
    guard needs.contains(where: { if case .spread = $0 { true } else { false } }) else {
      if !needs.isEmpty { Self.progress(node.name, "warning: \(summary)") }
      return .skipped(needs.isEmpty ? summary : "nothing to spread; " + summary)
    }
    Self.progress(node.name, summary)
    let done = try spreading.spread(
      needs, off: entry.ID, nodeName: node.name, timeout: options.wait, cancelled: { Cancellation.isCancelled })
    let unavailable = needs.filter { if case .spread = $0 { false } else { true } }
    return .done(
      (done + (unavailable.isEmpty ? [] : [ServiceSpread.summary(unavailable, node: node.name)])).joined(separator: "; "))
  }

  // MARK: Roots

  func maker() -> RootMaker { RootMaker(nfsRoot: cluster.head.nfsRoot, stateDirectory: global.stateDirectory) }

  func currentGeneration(_ node: Node) throws(PiSwarmError) -> (all: [RootGeneration], current: RootGeneration) {
    guard let all = generations[node.name], let current = RootGenerations.current(all) else {
      throw PiSwarmError(.notFound, "\(node.name) has no root on the head", advice: "see 'piswarm root ls'")
    }
    return (all, current)
  }

  /// The new root generation from the new image, the node's identity carried over.
  func makeRoot(_ node: Node, store: SQLiteStateStore) throws(PiSwarmError) -> String {
    guard case .image(let image) = kind else { return "" }
    let (all, current) = try currentGeneration(node)
    let number = all.first { $0.role == .made && $0.image == image }?.number ?? RootGenerations.next(all)
    let maker = maker()
    for path in maker.sweepAbandoned() { Console.err("removed \(path), left by an interrupted run") }
    let result = try maker.make(
      node: node, image: image, method: current.method, headIP: cluster.head.address.address,
      authorizedKey: try NodeRoots.authorizedKey(cluster, global: global), daemon: DaemonConfig.Settings(cluster, node),
      generation: number, carrying: current.path)
    var updated = all.filter { $0.number != number }
    updated.append(
      RootGeneration(
        node: node.name, number: number, image: image, method: current.method, path: result.path, role: .made,
        purpose: "upgrade to \(image)"))
    updated.sort { $0.number < $1.number }
    try store.recordGenerations(node: node.name, updated)
    generations[node.name] = updated
    for warning in result.warnings { Console.err("\(node.name): warning: \(warning)") }
    return "generation \(number) at \(result.path) (\(result.method.rawValue), \(String(format: "%.1f", result.seconds)) s)"
  }

  /// A copy of the current root as the previous generation: the way back from a package
  /// upgrade.
  func snapshot(_ node: Node, store: SQLiteStateStore) throws(PiSwarmError) -> String {
    let (all, current) = try currentGeneration(node)
    let number = RootGenerations.next(all)
    let started = Stopwatch()
    let path = try maker().copyGeneration(node: node.name, from: current, as: number)
    let made = RootGeneration(
      node: node.name, number: number, image: current.image, method: current.method, path: path, role: .made,
      purpose: "backup before packages")
    let updated = try RootGenerations.backup(all + [made], number)
    try store.recordGenerations(node: node.name, updated)
    generations[node.name] = updated
    return "generation \(number) at \(path) (\(String(format: "%.1f", started.seconds)) s)"
  }

  /// With the node off: its Docker storage into the generation it boots next, that generation
  /// current in the state store, cmdline.txt and the NFS export pointed at it (the netboot
  /// files written, the NFS server reloaded).
  func switchRoot(_ node: Node, store: SQLiteStateStore) throws(PiSwarmError) -> String {
    let (all, current) = try currentGeneration(node)
    let target: RootGeneration?
    switch kind {
    case .image(let image): target = all.last { $0.role == .made && $0.image == image }
    case .rollback: target = RootGenerations.previous(all)
    case .packages: target = nil
    }
    guard let target else {
      throw PiSwarmError(.notFound, "\(node.name) has no root generation to switch to", advice: "see 'piswarm root ls'")
    }
    let carried = try maker().carryStorage(node: node.name, from: current, to: target)
    let updated = try RootGenerations.activate(all, target.number)
    try store.recordGenerations(node: node.name, updated)
    generations[node.name] = updated
    cluster.currentRoots[node.name] = Cluster.CurrentRoot(path: target.path, image: target.image)
    let result = try NetbootApply.run(
      cluster, paths: NetbootPaths(stateDirectory: Files.absolute(global.stateDirectory)),
      options: NetbootStep.options(
        cluster, store: store, filesOnly: false, firmware: nil, dnsmasqExtra: options.dnsmasqOptions))
    for warning in result.warnings { Console.err("warning: \(warning)") }
    return "generation \(target.number) (\(target.image)) at \(target.path); "
      + (carried.isEmpty ? "no Docker storage file to carry" : "Docker storage carried") + "; exports: \(result.exports)"
  }

  // MARK: Packages

  func upgradePackages(_ node: Node) -> UpgradeSequence.Result {
    let result = transport.run(node, RemoteScript.upgradePackages.command([("PISWARM_APT", apt)]))
    guard result.ok else {
      let tail = result.stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
      return .failed("the package upgrade failed (\(result.message ?? result.status))\(tail.isEmpty ? "" : ":\n\(tail)")")
    }
    let values = KeyValueLines.parse(result.stdout, keys: ["upgraded", "reboot"])
    if values["reboot"] == "yes" { rebootNeeded.insert(node.name) } else { rebootNeeded.remove(node.name) }
    let count = values["upgraded"] ?? "0"
    return .done("\(count) package(s) upgraded\(apt == "simulate" ? " (simulated)" : "")")
  }

  /// A restart: through the node's power driver (shut down over SSH, off, on, wait for the
  /// boot), or, without one, `reboot` over SSH and a wait until SSH went away and came back.
  func restart(_ node: Node, control: PowerControl) -> UpgradeSequence.Result {
    if node.power.driver != PowerConfig.none.driver {
      let off = control.off(node, hard: false)
      transport.closeMasters([node])
      if let error = off.error { return .failed(error) }
      let on = control.on(node, wait: true)
      if let error = on.error { return .failed(error) }
      return .done("power \(node.power.driver): off and on")
    }
    _ = transport.run(node, ["sh", "-c", "systemctl reboot || reboot"])
    transport.closeMasters([node])
    let down = Deadline(in: cluster.power.shutdownTimeout)
    while PowerWiring.sshUp(node) {
      if down.hasPassed { return .failed("still up \(Int(cluster.power.shutdownTimeout)) s after it was asked to reboot") }
      usleep(500_000)
    }
    let up = Deadline(in: options.checkTimeout)
    while !PowerWiring.sshUp(node) {
      if up.hasPassed || Cancellation.isCancelled {
        return .failed("SSH did not come back within \(Int(options.checkTimeout)) s")
      }
      sleep(2)
    }
    return .done("rebooted over SSH")
  }

  // MARK: Checks

  /// Why `node` is not back yet; nil when it is: SSH with the pinned key (strict: a node whose
  /// host key changed fails here), dockerd answering, and in a swarm: its own state active and
  /// the managers seeing it Ready.
  func problem(_ node: Node, inSwarm: Bool) -> String? {
    let ssh = transport.run(node, ["true"])
    guard ssh.ok else { return "SSH: \(ssh.message ?? ssh.status)" }
    guard let client = docker(node) else { return "dockerd does not answer" }
    let info: EngineInfo
    do { info = try client.info() } catch { return "dockerd: \(error.message)" }
    guard inSwarm else { return nil }
    guard info.Swarm.LocalNodeState == .active else { return "its swarm state is \(info.Swarm.LocalNodeState.rawValue)" }
    guard let manager = manager(except: node) else { return "no manager answers" }
    do {
      let entry = try SwarmRemoval(manager: manager).find(node)
      return entry.Status.State == .ready ? nil : "the swarm sees it \(entry.Status.State.rawValue)"
    } catch {
      return error.message
    }
  }

  func check(_ node: Node, inSwarm: Bool) -> UpgradeSequence.Result {
    let deadline = Deadline(in: options.checkTimeout)
    var last = ""
    while true {
      guard let problem = problem(node, inSwarm: inSwarm) else {
        return .done(inSwarm ? "SSH, dockerd and the swarm agree" : "SSH and dockerd answer")
      }
      if problem != last { Self.progress(node.name, "not back yet: \(problem)") }
      last = problem
      if deadline.hasPassed || Cancellation.isCancelled {
        return .failed("not back within \(Int(options.checkTimeout)) s: \(problem)")
      }
      sleep(3)
    }
  }

  /// Waits until every service runs as many tasks as it wants (a global one on this node
  /// again too): the next node is taken down only then.
  func settle(_ node: Node) -> UpgradeSequence.Result {
    let deadline = Deadline(in: options.settleTimeout)
    var behind: [String] = []
    while true {
      if let manager = manager() {
        do {
          let services = try manager.services()
          behind = services.filter { ($0.ServiceStatus?.RunningTasks ?? 0) < ($0.ServiceStatus?.DesiredTasks ?? 0) }
            .map { "\($0.Spec.Name) \($0.ServiceStatus?.RunningTasks ?? 0)/\($0.ServiceStatus?.DesiredTasks ?? 0)" }
          if behind.isEmpty { return .done("\(services.count) service(s) at their replicas") }
        } catch {
          behind = [error.message]
        }
      } else {
        behind = ["no manager answers"]
      }
      if deadline.hasPassed || Cancellation.isCancelled {
        return .failed("services not back within \(Int(options.settleTimeout)) s: \(behind.joined(separator: ", "))")
      }
      sleep(2)
    }
  }
}
