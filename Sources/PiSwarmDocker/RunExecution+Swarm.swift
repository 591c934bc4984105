import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

// The swarm's actions as the executor carries them out: the single-node actions (unlock, init,
// stale entries, autolock, tokens), resolving entries by the managers' view, and the wait for
// Ready (joins are in RunExecution+Join.swift).
extension RunExecution {
  /// One action on its own.
  mutating func one(_ action: RunAction) {
    if let blocker = blocker(action) {
      skip(action, blocker)
      return
    }
    let started = Date()
    let error = perform(action)
    if case .initSwarm = action, let error { swarmBlocked = "swarm init failed (\(error))" }
    record(action, started, error: error)
  }

  /// Does one action; the error, or nil.
  mutating func perform(_ action: RunAction) -> String? {
    switch action {
    case .unlock(let name):
      guard let node = node(name) else { return "no such node" }
      let byHand =
        "on \(name), run 'docker swarm unlock' and give it the key 'docker swarm unlock-key' shows on an unlocked manager"
      var docker = executor.client(node)
      do {
        guard let key = try executor.memory.unlockKey(), !key.isEmpty else {
          return "\(name) is locked (swarm autolock) and piswarm keeps no unlock key for this swarm; \(byHand)"
        }
        executor.progress("\(name): unlocking its swarm state (autolock)")
        try docker.negotiate()
        try docker.unlock(key: key)
        return nil
      } catch {
        return "\(name) is locked (swarm autolock) and the unlock key piswarm keeps did not unlock it: \(error); \(byHand)"
      }
    case .initSwarm(let name):
      guard let node = node(name) else { return "no such node" }
      var docker = executor.client(node)
      do {
        executor.progress("\(name): swarm init, advertising \(node.ip)")
        try docker.negotiate()
        do {
          _ = try docker.swarmInit(advertiseAddress: node.ip.description)
        } catch {
          // An init that an interrupted run started (piswarm stopped, dockerd went on) finishes
          // while this run looks: the node is then in a swarm of its own. It is adopted once it
          // has a leader; anything else stays an error.
          guard (error.cause as? DockerAPIError)?.isAlreadyInSwarm == true, Self.settledSwarm(docker) != nil else {
            throw error
          }
        }
        leader = (node, docker)
        return nil
      } catch {
        return "swarm init failed: \(error)"
      }
    case .removeStaleEntry(_, let entry):
      guard let leader = leaderClient() else { return "no manager of the swarm answers" }
      do {
        // Forced: the entry may not show down yet; the node it stood for has another one now.
        try leader.client.removeNode(entry, force: true)
        return nil
      } catch {
        return "cannot remove its stale swarm entry \(entry.prefix(12)): \(error)"
      }
    case .setAutolock(let wanted):
      guard let leader = leaderClient() else { return "no manager of the swarm answers" }
      do {
        executor.progress(wanted ? "enabling swarm autolock" : "disabling swarm autolock")
        try leader.client.setAutolock(wanted)
      } catch {
        return "cannot \(wanted ? "enable" : "disable") swarm autolock: \(error)"
      }
      return wanted ? keepKey(leader.client) : nil
    case .keepUnlockKey:
      guard let leader = leaderClient() else { return "no manager of the swarm answers" }
      return keepKey(leader.client)
    case .forgetUnlockKey:
      do { try executor.memory.setUnlockKey(nil) } catch { return "cannot forget the old unlock key: \(error)" }
      return nil
    case .rotateJoinTokens:
      guard let leader = leaderClient() else { return "no manager of the swarm answers" }
      do {
        try leader.client.rotateJoinTokens()
      } catch {
        return "join tokens were sent and could not be rotated: \(error); the next 'piswarm up' rotates them"
      }
      executor.progress("rotated the join tokens")
      do { try executor.memory.setRotationOwed(false) } catch {
        executor.progress(
          "warning: the state store cannot record that the join tokens were rotated (the next run rotates them again): \(error)")
      }
      return nil
    case .refuse(_, let reason), .refuseNetboot(_, let reason): return reason
    case .docker(let node, let plan): return executor.applyDocker(node, plan).error
    case .registry(let plan): return executor.applyRegistry(plan)
    case .nat(let plan): return executor.applyNAT(plan)
    case .join, .setLabels, .promote, .demote, .powerOn, .waitBoot, .deployStack, .refuseStack, .netbootRoot, .netbootFiles,
      .netbootRestart:
      return "runs with the others of its kind"
    }
  }

  /// Keeps the swarm's unlock key in `memory` (read again each run, so a key rotated by hand is
  /// kept too). The key is never printed.
  func keepKey(_ leader: DockerClient) -> String? {
    do {
      let key = try leader.unlockKey()
      guard !key.isEmpty else { throw PiSwarmError(.system, "the swarm answered no unlock key") }
      if try executor.memory.unlockKey() != key { try executor.memory.setUnlockKey(key) }
      return nil
    } catch {
      return
        "swarm autolock is on and its unlock key could not be kept: \(error); 'docker swarm unlock-key' on a manager shows it, and the next 'piswarm up' tries again"
    }
  }

  /// The manager the swarm is changed through: the one that ran init, else the one it was
  /// observed through, else the first node that is an active manager with control (desired
  /// managers first).
  mutating func leaderClient() -> (node: Node, client: DockerClient)? {
    if let leader { return leader }
    let observed = cluster.nodes.filter { $0.name == via }
    for node in observed + (cluster.managers + cluster.workers).filter({ failed[$0.name] == nil && $0.name != via }) {
      var docker = executor.client(node)
      guard (try? docker.negotiate()) != nil, let swarm = try? docker.info().Swarm, swarm.LocalNodeState == .active,
        swarm.ControlAvailable == true
      else { continue }
      leader = (node, docker)
      return leader
    }
    return nil
  }

  /// The entries of the actions' nodes by the managers' view (the entry at the node's address):
  /// one read of the swarm's node list, read again for a while only when a node that just
  /// joined does not show there yet (it shows without its address for a moment).
  func resolve(
    _ actions: [RunAction], leader: (node: Node, client: DockerClient)
  ) -> [String: Result<
    SwarmMember, PiSwarmError
  >] {
    var found: [String: Result<SwarmMember, PiSwarmError>] = [:]
    let nodes = actions.compactMap { $0.node }.compactMap { node($0) }
    // What each node says its ID is: it picks among the entries at its address, as the planner
    // did (a down entry an earlier life left there is not it, nor is it a new entry that has not
    // shown Ready yet after a join an interrupted run made). Asked of all at once.
    var claimed: [String: String] = [:]
    let client = executor.client
    let answers = FanOut.run(nodes, parallel: executor.parallel, skipped: { _ in String?.none }) { node -> String? in
      var own = client(node)
      guard (try? own.negotiate()) != nil, let id = try? own.info().Swarm.NodeID, !id.isEmpty else { return nil }
      return id
    }
    for (node, id) in zip(nodes, answers) where id != nil { claimed[node.name] = id }
    let deadline = Deadline(in: executor.readyTimeout)
    while true {
      let members: [SwarmMember]
      do { members = try leader.client.nodes().map(\.member) } catch {
        for node in nodes where found[node.name] == nil { found[node.name] = .failure(error) }
        return found
      }
      for node in nodes where found[node.name] == nil {
        switch SwarmMember.identity(of: node, claimed: claimed[node.name], in: members) {
        case .known(let entry): found[node.name] = .success(entry)
        case .disputed(let other, let here):
          found[node.name] = .failure(PiSwarmError(.invalidInput, SwarmMember.disputed(node, other, here)))
        case .missing: break
        }
      }
      let missing = nodes.filter { found[$0.name] == nil }
      if missing.isEmpty || deadline.hasPassed || Cancellation.isCancelled {
        for node in missing {
          found[node.name] = .failure(PiSwarmError(.system, "not found at its address \(node.ip) in the swarm's node list"))
        }
        return found
      }
      usleep(250_000)
    }
  }

  /// A node whose dockerd just restarted is back in its swarm at once, but the managers see it
  /// Ready only after its next heartbeat: wait for that (at most `readyTimeout`), so that the
  /// run ends with the swarm as cluster.yml says, or says which node is not.
  mutating func waitUntilReady() -> [String: String] {
    guard !Cancellation.isCancelled, let leader = leaderClient() else { return [:] }
    let deadline = Deadline(in: executor.readyTimeout)
    var waiting: [String: String] = [:]
    while true {
      guard let members = try? leader.client.nodes().map(\.member) else { return [:] }
      waiting = [:]
      for node in cluster.nodes where failed[node.name] == nil {
        guard case .known(let entry) = SwarmMember.identity(of: node, claimed: nil, in: members), entry.state != .ready
        else { continue }
        waiting[node.name] = entry.state.rawValue
      }
      if waiting.isEmpty || deadline.hasPassed || Cancellation.isCancelled { break }
      usleep(250_000)
    }
    return waiting.mapValues {
      "the swarm still sees it as \($0) \(Int(executor.readyTimeout)) s after up; see 'piswarm status'"
    }
  }
}
