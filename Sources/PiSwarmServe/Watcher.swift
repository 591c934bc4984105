import Dispatch
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Watches the nodes in the background, never while a page waits. Each node runs the watch
/// script (Scripts/watch.sh) in one long SSH session through its ControlMaster and prints a
/// sample every `interval` seconds; one thread reads them all with poll(2). A session that ends
/// (the node stopped, its sshd died) says "down" at once; one that falls silent for two
/// intervals does too. The swarm's view comes from a manager, the boot phases from the boot
/// events and the power from the drivers, each on a second thread at its own pace.
public final class Watcher: Sendable {
  public struct Probes: Sendable {
    /// The swarm's word on each node, by node name (nil: no manager answered).
    public var swarm: @Sendable () -> [String: SwarmStanding]?
    /// Boot phase and time by node name.
    public var boot: @Sendable () -> [String: (phase: String, time: Date?)]
    /// Power state words by node name, for the nodes given.
    public var power: @Sendable ([Node]) -> [String: String]

    public init(
      swarm: @escaping @Sendable () -> [String: SwarmStanding]?,
      boot: @escaping @Sendable () -> [String: (phase: String, time: Date?)],
      power: @escaping @Sendable ([Node]) -> [String: String]
    ) {
      self.swarm = swarm
      self.boot = boot
      self.power = power
    }
  }

  public let nodes: [Node]
  public let transport: SSHTransport
  public let interval: Double
  let probes: Probes
  let state = Mutex<State>(State())
  let stopped = Atomic<Bool>(false)
  let ended = DispatchSemaphore(value: 0)

  struct State {
    var observations: [String: NodeView] = [:]
    var version = 0
    /// Nodes whose power should be read again soon (reach changed, or an action ran).
    var powerDue: Set<String> = []
    /// The swarm's view should be read again now (an action ran).
    var swarmDue = false
  }

  public init(nodes: [Node], transport: SSHTransport, interval: Double, probes: Probes) {
    self.nodes = nodes
    self.transport = transport
    self.interval = interval
    self.probes = probes
    state.withLock { state in
      for node in nodes { state.observations[node.name] = NodeView() }
      state.powerDue = Set(nodes.map(\.name))
    }
  }

  /// The observations now, and a number that grows with every change.
  public func snapshot() -> (version: Int, observations: [String: NodeView]) {
    state.withLock { ($0.version, $0.observations) }
  }

  /// After an action on these nodes: read their power and the swarm's view again, now.
  public func refresh(after names: [String]) {
    state.withLock { state in
      state.powerDue.formUnion(names)
      state.swarmDue = true
    }
  }

  func update(_ name: String, _ change: (inout NodeView) -> Void) {
    state.withLock { state in
      guard var observation = state.observations[name] else { return }
      let before = observation
      change(&observation)
      if observation.reach != before.reach {
        observation.since = Date()
        state.powerDue.insert(name)
      }
      if observation != before {
        state.observations[name] = observation
        state.version += 1
      }
    }
  }

  /// Starts the two threads.
  public func start() {
    let streams = Thread { [self] in self.streamLoop() }
    streams.name = "piswarm-watch-streams"
    streams.start()
    let rounds = Thread { [self] in self.roundLoop() }
    rounds.name = "piswarm-watch-rounds"
    rounds.start()
  }

  /// Ends the threads at their next turn and the sessions with them, and waits for the
  /// sessions' ssh processes to be gone (at most 5 s).
  public func stopAndWait() {
    stopped.store(true, ordering: .relaxed)
    _ = ended.wait(timeout: .now() + 5)
  }

  // MARK: - The sessions

  final class Session {
    let node: Node
    var child: ChildProcess?
    var buffer = Data()
    var errors = Data()
    var startedAt = Date.distantPast
    var nextStart = Date.distantPast
    var failures = 0

    init(node: Node) { self.node = node }
  }

  func command(_ node: Node) -> [String] {
    let script = RemoteScript.watch.command([
      ("INTERVAL", String(format: "%g", interval)), ("DISK_EVERY", String(max(1, Int(30 / interval)))),
    ])
    return ["ssh"] + transport.invocation(node).arguments(remote: script)
  }

  func streamLoop() {
    let sessions = nodes.map(Session.init)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var lastSilenceCheck = Date.distantPast
    while !stopped.load(ordering: .relaxed) {
      let now = Date()
      defer {
        // At most ten turns a second: samples arrive spread over the interval, and reading
        // them in batches costs less than waking for each.
        let spent = Date().timeIntervalSince(now)
        if spent < 0.1 { usleep(useconds_t((0.1 - spent) * 1_000_000)) }
      }
      for session in sessions where session.child == nil && session.nextStart <= now {
        do {
          session.child = try ChildProcess.start(command(session.node), stdin: .null, stdout: .pipe, stderr: .pipe)
          session.startedAt = now
          session.buffer.removeAll()
          session.errors.removeAll()
        } catch {
          session.nextStart = now.addingTimeInterval(backoff(session))
          update(session.node.name) { $0.reach = .down(error.message) }
        }
      }
      var fds: [pollfd] = []
      var owners: [(Session, Bool)] = []
      for session in sessions {
        guard let child = session.child else { continue }
        fds.append(pollfd(fd: child.output, events: Int16(POLLIN), revents: 0))
        owners.append((session, false))
        if child.errors >= 0 {
          fds.append(pollfd(fd: child.errors, events: Int16(POLLIN), revents: 0))
          owners.append((session, true))
        }
      }
      let ready = fds.isEmpty ? 0 : poll(&fds, nfds_t(fds.count), 500)
      if fds.isEmpty { usleep(200_000) }
      if ready > 0 {
        for (index, fd) in fds.enumerated() where fd.revents != 0 {
          let (session, isErrors) = owners[index]
          guard session.child != nil else { continue }
          let count = buffer.withUnsafeMutableBytes { read(fd.fd, $0.baseAddress, $0.count) }
          if count > 0 {
            if isErrors {
              session.errors.append(contentsOf: buffer[0..<count])
              if session.errors.count > 4096 { session.errors.removeFirst(session.errors.count - 4096) }
            } else {
              session.buffer.append(contentsOf: buffer[0..<count])
              consume(session)
            }
          } else if !isErrors {
            end(session, why: nil)
          }
        }
      }
      // Silence: no sample for two intervals (and a little) after the session's first one.
      // Checked once a second.
      guard now.timeIntervalSince(lastSilenceCheck) >= 1 else { continue }
      lastSilenceCheck = now
      let silence = 2 * interval + 2
      for session in sessions where session.child != nil {
        let last = state.withLock { $0.observations[session.node.name]?.lastSample } ?? .distantPast
        let since = max(last, session.startedAt)
        let limit = last < session.startedAt ? silence + Double(transport.connectTimeout) : silence
        if Date().timeIntervalSince(since) > limit {
          end(session, why: "silent for \(Int(Date().timeIntervalSince(since))) s")
        }
      }
    }
    for session in sessions where session.child != nil { end(session, why: "serve stopped") }
    ended.signal()
  }

  /// Takes the complete samples out of the session's buffer; the last one counts.
  func consume(_ session: Session) {
    let marker = Data("\n.\n".utf8)
    var last: String?
    while let range = session.buffer.range(of: marker) {
      last = String(decoding: session.buffer[session.buffer.startIndex..<range.lowerBound], as: UTF8.self)
      session.buffer.removeSubrange(session.buffer.startIndex..<range.upperBound)
      session.buffer.insert(0x0A, at: session.buffer.startIndex)
    }
    if session.buffer.count > 65_536 { session.buffer.removeAll() }
    guard let last else { return }
    let sample = NodeSample.parse(last)
    session.failures = 0
    update(session.node.name) { observation in
      observation.reach = .up
      observation.lastSample = Date()
      var values = sample.values
      if let engine = values.removeValue(forKey: "docker_engine") {
        let words = engine.split(separator: " ").map(String.init)
        observation.docker = words.first
        observation.storage = words.count > 1 ? words[1] : nil
        observation.backingFilesystem = words.count > 2 ? words[2] : nil
      }
      observation.sample = NodeSample(values)
    }
  }

  /// Ends a session: reaps its ssh, says the node is down and why, and when to try again.
  func end(_ session: Session, why: String?) {
    guard let child = session.child else { return }
    session.child = nil
    close(child.output)
    if child.errors >= 0 { close(child.errors) }
    var status = child.ended()
    if status == nil {
      usleep(50_000)
      status = child.ended()
    }
    if status == nil {
      child.signal(SIGKILL)
      status = child.wait()
    }
    let said = String(decoding: session.errors, as: UTF8.self).split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty }
    let reason =
      why ?? said.map { TerminalText.escaped($0) } ?? "its SSH session ended (status \(status.map(String.init) ?? "?"))"
    session.failures += 1
    session.nextStart = Date().addingTimeInterval(backoff(session))
    update(session.node.name) { $0.reach = .down(String(reason.prefix(200))) }
  }

  /// Seconds before the next session: at once the first time, then the interval, growing to 30 s.
  func backoff(_ session: Session) -> Double {
    session.failures <= 1 ? 0.2 : min(30, interval * Double(1 << min(session.failures - 2, 4)))
  }

  // MARK: - The rounds: swarm, boot, power

  func roundLoop() {
    var lastBoot = Date.distantPast
    var lastPower = Date()
    var lastSwarm = Date.distantPast
    while !stopped.load(ordering: .relaxed) {
      let started = Date()
      // The swarm's view every 5 s at the most: it changes slowly, and a node's own session
      // already says at once when it goes away.
      let swarmDue = state.withLock { state in
        defer { state.swarmDue = false }
        return state.swarmDue
      }
      if swarmDue || started.timeIntervalSince(lastSwarm) >= max(interval, 5), let standings = probes.swarm() {
        lastSwarm = started
        for node in nodes {
          let standing = standings[node.name]
          update(node.name) { $0.swarm = standing }
        }
      }
      if started.timeIntervalSince(lastBoot) >= 5 {
        lastBoot = started
        let phases = probes.boot()
        for node in nodes {
          let phase = phases[node.name]
          update(node.name) { observation in
            observation.bootPhase = phase?.phase
            observation.bootTime = phase?.time
          }
        }
      }
      var due = state.withLock { state in
        let due = state.powerDue
        state.powerDue = []
        return due
      }
      if started.timeIntervalSince(lastPower) >= 300 {
        lastPower = started
        due = Set(nodes.map(\.name))
      }
      if !due.isEmpty {
        let states = probes.power(nodes.filter { due.contains($0.name) })
        for (name, power) in states { update(name) { $0.power = power } }
      }
      let rest = interval - Date().timeIntervalSince(started)
      var slept = 0.0
      while slept < rest && !stopped.load(ordering: .relaxed) && state.withLock({ $0.powerDue.isEmpty && !$0.swarmDue }) {
        usleep(100_000)
        slept += 0.1
      }
    }
  }
}
