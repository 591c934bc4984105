import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A whole lab's life: `up` builds it, `down` removes everything it made.
extension VirtualLab {
  /// Creates the lab, or grows it, and starts every node that is not running. Idempotent.
  public func up(name: String, nodes requested: Int, managers requestedManagers: Int?) throws(PiSwarmError) -> LabLayout {
    if let problem = LabLayout.problem(withName: name) {
      throw PiSwarmError(.invalidInput, "lab name \"\(name)\": \(problem)", advice: "e.g. --name lab1")
    }
    guard (1...LabLayout.maximumNodes).contains(requested) else {
      throw PiSwarmError(.invalidInput, "--nodes \(requested): a lab has 1 to \(LabLayout.maximumNodes) nodes")
    }
    let missing = Self.missingPrerequisites()
    guard missing.isEmpty else {
      let packages = Set(missing.map(\.1)).sorted().joined(separator: " ")
      throw PiSwarmError(
        .system, "the lab needs programs that are not installed: \(missing.map(\.0).joined(separator: ", "))",
        advice: "apt-get install \(packages) (or run 'make deps')")
    }
    guard getuid() == 0 else {
      throw PiSwarmError(.system, "the lab needs root (network namespaces, mounts)", advice: "run it as root")
    }

    // Subnets are a machine-wide resource (labs of other state directories too): choosing one and
    // putting the head's address on it happen under one machine-wide lock.
    let subnetLock = try MachineLock.acquire(Self.subnetLock)
    defer { subnetLock.release() }
    var state: LabState
    if let existing = LabState.load(name: name, stateDirectory: stateDirectory) {
      state = existing
    } else {
      state = LabState(name: name, index: try freeIndex(), nodeCount: 0, managers: 0, launchers: [:])
    }
    let grown = max(state.nodeCount, requested)
    if requested < state.nodeCount {
      progress("lab \(name) has \(state.nodeCount) nodes already; a lab only grows ('piswarm lab down' first to shrink it)")
    }
    let managers = requestedManagers ?? (state.managers > 0 ? state.managers : (grown >= 3 ? 3 : 1))
    guard managers >= 1, managers <= grown else {
      throw PiSwarmError(.invalidInput, "--managers \(managers): pick 1 to \(grown) (3 survives one failure)")
    }
    state.nodeCount = grown
    state.managers = managers
    let layout = state.layout(stateDirectory: stateDirectory)

    try Files.makeDirectory(stateDirectory + "/labs", mode: 0o700)
    try Files.makeDirectory(layout.directory, mode: 0o700)
    try state.save(stateDirectory: stateDirectory)  // first, so that 'down' finds a lab that crashes below
    try prepareHost(layout)
    try makeSwitch(layout)
    subnetLock.release()

    let started = Stopwatch()
    var launching: [LabLayout.Node] = []
    var restarted: [LabLayout.Node] = []
    for node in layout.nodes {
      if let pid = state.launchers[node.name], isLauncher(pid, of: node) {
        if dockerd(pid) == nil {
          try restartDocker(node, launcher: pid)
          restarted.append(node)
        }
        continue
      }
      try prepareFiles(layout, node)
      try makeNetwork(layout, node)
      launching.append(node)
    }
    if !launching.isEmpty {
      progress("lab \(name): starting \(launching.count) node(s) on \(layout.headAddress.networkDescription)")
    }
    for node in launching {
      state.launchers[node.name] = try launch(layout, node)
    }
    try state.save(stateDirectory: stateDirectory)
    if !restarted.isEmpty { progress("lab \(name): restarted dockerd on \(restarted.map(\.name).joined(separator: ", "))") }
    try waitUntilReady(layout, launching + restarted, timeout: 60 + Double(launching.count) * 4)
    if !launching.isEmpty {
      progress(String(format: "lab \(name): %d node(s) up in %.1f s", launching.count, started.seconds))
    }
    try loadBaseImage(layout)
    try pinHostKeys(layout)
    try AtomicFile.write(LabFiles.clusterFile(layout, managers: managers), to: layout.clusterFile)
    return layout
  }

  /// Removes the lab and everything it made, also after an `up` that crashed half-way.
  public func down(name: String) throws(PiSwarmError) {
    if let problem = LabLayout.problem(withName: name) { throw PiSwarmError(.invalidInput, "lab name \"\(name)\": \(problem)") }
    let directory = LabLayout.directory(name: name, stateDirectory: stateDirectory)
    let state = LabState.load(name: name, stateDirectory: stateDirectory)
    let layout = state?.layout(stateDirectory: stateDirectory)
    let namespacePrefix = "pslab-\(name)"
    let ourNamespaces = Self.namespaces().filter { $0 == namespacePrefix || $0.hasPrefix(namespacePrefix + "-") }
    guard state != nil || Files.exists(directory) || !ourNamespaces.isEmpty || linkExists("psl-\(name)") else {
      throw PiSwarmError(.notFound, "no lab \"\(name)\" here", advice: "'piswarm lab ls' lists the labs")
    }

    removeVMs(lab: name)
    // Processes: every launcher started for this lab's nodes, found by PID through its command
    // line (so also after a crash before lab.json was written).
    let marker = directory + "/nodes/"
    let launchers = Processes.all().filter { pid in
      let words = Processes.commandLine(pid)
      return words.contains("--kill-child") && words.contains { $0.hasPrefix(marker) && $0.hasSuffix("/init.sh") }
    }
    if !launchers.isEmpty { progress("lab \(name): stopping \(launchers.count) node(s)") }
    stopNodes(launchers)
    // PID 1s whose launcher is gone (killed by hand): kill them directly.
    for pid in Processes.all()
    where Processes.commandLine(pid).contains(where: { $0.hasPrefix(marker) && $0.hasSuffix("/init.sh") }) {
      Processes.signal(pid, SIGKILL)
    }

    for namespace in ourNamespaces.sorted(by: >) { _ = try? ip(["netns", "del", namespace]) }
    if linkExists("psl-\(name)") { _ = try? ip(["link", "del", "psl-\(name)"]) }
    removeCgroups("pslab-\(name)")
    for point in Mounts.points() where point.hasPrefix(directory + "/") {
      _ = umount2(point, Int32(MNT_DETACH))
    }
    if let layout {
      try? KnownHosts.replace(hosts: layout.nodes.map(\.ip.description), with: [], in: stateDirectory + "/known_hosts")
    }
    do {
      if Files.exists(directory) { try FileManager.default.removeItem(atPath: directory) }
    } catch {
      throw PiSwarmError(.system, "cannot remove \(directory)", cause: "\(error)")
    }
    removeCreatedMountPoints()
  }

  func removeCgroups(_ group: String) {
    let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
    for hierarchy in hierarchies {
      let top = "/sys/fs/cgroup/\(hierarchy)/\(group)"
      guard Files.exists(top) else { continue }
      for _ in 0..<50 {
        removeTree(top)
        if !Files.exists(top) { break }
        usleep(100_000)
      }
    }
  }

  /// rmdir depth first (cgroup folders hold only pseudo-files, which rmdir takes along).
  func removeTree(_ path: String) {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    for entry in entries {
      var info = stat()
      let child = path + "/" + entry
      if lstat(child, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { removeTree(child) }
    }
    rmdir(path)
  }

  /// Host folders the lab had to create as mount points go again with the last lab: only when
  /// no lab of any state directory runs (removing a folder that is a mount point in a node's
  /// mount namespace would detach that node's mount).
  func removeCreatedMountPoints() {
    if LabState.all(stateDirectory: stateDirectory).isEmpty { rmdir(stateDirectory + "/labs") }
    guard let lock = try? MachineLock.acquire(Self.subnetLock) else { return }
    defer { lock.release() }
    guard !Self.namespaces().contains(where: { $0.hasPrefix("pslab-") }),
      let text = try? String(contentsOfFile: Self.mountPointRecord, encoding: .utf8)
    else { return }
    for path in text.split(separator: "\n").reversed() { rmdir(String(path)) }
    unlink(Self.mountPointRecord)
  }

  /// The machine-wide lock for subnets and host mount points.
  static let subnetLock = "/run/piswarm-lab-subnets.lock"

  /// Host folders labs created as mount points (in /run: gone with a reboot, as the labs are).
  static let mountPointRecord = "/run/piswarm-lab-mount-points"
}
