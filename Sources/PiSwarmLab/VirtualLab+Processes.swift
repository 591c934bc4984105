import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The processes of nodes: launching a node (its PID namespace, init, sshd, dockerd), waiting
/// for it, and powering it off and on.
extension VirtualLab {
  /// Starts the node's "machine": its namespaces with tini as PID 1 running init.sh.
  func launch(_ layout: LabLayout, _ node: LabLayout.Node) throws(PiSwarmError) -> Int32 {
    let tini = Command.resolve("tini-static") ?? "/usr/bin/tini-static"
    return try Processes.spawnDetached(
      [
        "nsenter", "--net=/run/netns/\(node.namespace)", "--",
        "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private",
        tini, "-s", "--", "/bin/sh", node.directory + "/init.sh",
      ],
      environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"],
      log: node.directory + "/console.log")
  }

  /// Whether `pid` is still the launcher of `node` (and not a reused PID).
  func isLauncher(_ pid: Int32, of node: LabLayout.Node) -> Bool {
    Processes.isAlive(pid) && Processes.commandLine(pid).contains(node.directory + "/init.sh")
  }

  /// The node's PID 1 (tini), the only child of its launcher.
  func initPID(_ launcher: Int32) -> Int32? { Processes.children(launcher).first }

  func dockerSocket(_ launcher: Int32) -> String? {
    initPID(launcher).map { "/proc/\($0)/root/run/docker.sock" }
  }

  func waitUntilReady(_ layout: LabLayout, _ nodes: [LabLayout.Node], timeout: Double) throws(PiSwarmError) {
    guard let state = LabState.load(name: layout.name, stateDirectory: stateDirectory) else { return }
    let deadline = Deadline(in: timeout)
    var waiting = nodes
    while !waiting.isEmpty {
      waiting = waiting.filter { node in
        guard let launcher = state.launchers[node.name] else { return false }
        return !isReady(node, launcher: launcher)
      }
      if waiting.isEmpty { break }
      if deadline.hasPassed {
        let names = waiting.map(\.name).joined(separator: ", ")
        throw PiSwarmError(
          .system, "lab \(layout.name): \(names) did not come up within \(Int(timeout)) s",
          advice:
            "see \(waiting[0].directory)/console.log and var-log/dockerd.log; 'piswarm lab down --name \(layout.name)' cleans up")
      }
      for node in waiting {
        if let launcher = state.launchers[node.name], !Processes.isAlive(launcher) {
          throw PiSwarmError(
            .system, "lab \(layout.name): \(node.name) stopped while starting", advice: "see \(node.directory)/console.log")
        }
      }
      usleep(50_000)
    }
  }

  func isReady(_ node: LabLayout.Node, launcher: Int32) -> Bool {
    guard let socket = dockerSocket(launcher), Probes.unixHTTPGet(socket: socket, path: "/_ping", timeout: 1)?.status == 200
    else {
      return false
    }
    return Probes.tcpBanner(host: node.ip, port: 22, timeout: 1)?.hasPrefix("SSH-") == true
  }

  /// Powers a node off: dockerd is stopped cleanly, then the node's PID namespace ends.
  public func stop(lab name: String, node nodeName: String) throws(PiSwarmError) {
    let (state, node) = try find(lab: name, node: nodeName)
    guard let launcher = state.launchers[node.name], isLauncher(launcher, of: node) else {
      progress("\(node.name) is already stopped")
      return
    }
    stopNodes([launcher])
  }

  /// Powers a node on (a fresh /run, as at boot) and waits until sshd and dockerd answer.
  public func start(lab name: String, node nodeName: String) throws(PiSwarmError) {
    var (state, node) = try find(lab: name, node: nodeName)
    let layout = state.layout(stateDirectory: stateDirectory)
    if let launcher = state.launchers[node.name], isLauncher(launcher, of: node) {
      if dockerd(launcher) == nil {
        progress("\(node.name) is running but its dockerd is not: starting dockerd")
        try restartDocker(node, launcher: launcher)
        try waitUntilReady(layout, [node], timeout: 60)
      } else {
        progress("\(node.name) is already running")
      }
      return
    }
    try makeNetwork(layout, node)
    state.launchers[node.name] = try launch(layout, node)
    try state.save(stateDirectory: stateDirectory)
    try waitUntilReady(layout, [node], timeout: 60)
  }

  /// Crashes a node's dockerd (SIGKILL), leaving the rest of the node running.
  public func killDocker(lab name: String, node nodeName: String) throws(PiSwarmError) {
    let (state, node) = try find(lab: name, node: nodeName)
    guard let launcher = state.launchers[node.name], isLauncher(launcher, of: node), let pid = dockerd(launcher) else {
      throw PiSwarmError(.invalidInput, "\(node.name)'s dockerd is not running")
    }
    Processes.signal(pid, SIGKILL)
    _ = Processes.waitForExit([pid], timeout: 5)
  }

  func find(lab name: String, node nodeName: String) throws(PiSwarmError) -> (LabState, LabLayout.Node) {
    guard let state = LabState.load(name: name, stateDirectory: stateDirectory) else {
      throw PiSwarmError(
        .notFound, "no lab \"\(name)\" here", advice: "'piswarm lab ls' lists the labs; 'piswarm lab up' makes one")
    }
    let layout = state.layout(stateDirectory: stateDirectory)
    guard let node = layout.node(named: nodeName) else {
      throw PiSwarmError(
        .notFound, "lab \(name) has no node \"\(nodeName)\"\(Suggestion.hint(for: nodeName, in: layout.nodes.map(\.name)))")
    }
    return (state, node)
  }

  /// The node's dockerd: the process named dockerd in the node's PID namespace (started by its
  /// init, or restarted later through nsenter).
  func dockerd(_ launcher: Int32) -> Int32? {
    guard let pid1 = initPID(launcher), let namespace = Processes.pidNamespace(pid1) else { return nil }
    let isDockerd = { (pid: Int32) in Processes.name(pid) == "dockerd" && Processes.isAlive(pid) }
    return Processes.descendants(pid1).first(where: isDockerd) ?? Processes.inNamespace(namespace).first(where: isDockerd)
  }

  /// Starts dockerd again in a running node whose dockerd has died (as systemd would on a Pi),
  /// through the node's docker service.
  func restartDocker(_ node: LabLayout.Node, launcher: Int32) throws(PiSwarmError) {
    guard let pid1 = initPID(launcher) else { return }
    try Command("nsenter", ["--target", "\(pid1)", "--all", "--", "/etc/init.d/docker", "start"]).check()
  }

  /// SIGTERM to each node's dockerd, up to 15 s for them to finish, then SIGKILL to each PID 1:
  /// the kernel ends everything else in those PID namespaces.
  func stopNodes(_ launchers: [Int32]) {
    var dockerds: [Int32] = []
    var inits: [(Int32, String?)] = []
    for launcher in launchers {
      if let pid = dockerd(launcher) {
        Processes.signal(pid, SIGTERM)
        dockerds.append(pid)
      }
    }
    _ = Processes.waitForExit(dockerds, timeout: 15)
    for launcher in launchers {
      if let pid1 = initPID(launcher) {
        inits.append((pid1, Processes.pidNamespace(pid1)))
        Processes.signal(pid1, SIGKILL)
      }
      Processes.signal(launcher, SIGKILL)
    }
    _ = Processes.waitForExit(launchers + inits.map(\.0), timeout: 10)
    // Wait for every process of those PID namespaces to be gone.
    let namespaces = Set(inits.compactMap(\.1))
    if !namespaces.isEmpty {
      let rest = Processes.all().filter { Processes.pidNamespace($0).map(namespaces.contains) ?? false }
      _ = Processes.waitForExit(rest, timeout: 10)
    }
  }
}
