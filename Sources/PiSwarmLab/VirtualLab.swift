import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A lab of virtual nodes on this machine: network namespaces on a bridge of their own, each
/// node with its own host name, mounts, PID namespace, sshd and dockerd.
public struct VirtualLab: Sendable {
  public let stateDirectory: String
  /// Where progress goes (stderr in the CLI).
  public let progress: @Sendable (String) -> Void

  public init(stateDirectory: String, progress: @escaping @Sendable (String) -> Void = { _ in }) {
    self.stateDirectory = Files.absolute(stateDirectory)
    self.progress = progress
  }

  /// Programs a lab needs, with the Debian package that has each.
  public static let prerequisites: [(String, String)] = [
    ("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"), ("tini-static", "tini"),
    ("sshd", "openssh-server"), ("ssh-keygen", "openssh-client"), ("dockerd", "docker.io"), ("docker", "docker.io"),
    ("busybox", "busybox-static"), ("tar", "tar"), ("mount", "mount"),
  ]

  public static func missingPrerequisites() -> [(String, String)] {
    prerequisites.filter { Command.resolve($0.0) == nil }
  }

  // MARK: - up

  public struct NodeStatus: Sendable, Codable, Equatable {
    public var name: String
    public var ip: String
    public var mac: String
    public var running: Bool
    public var docker: Bool
    public var ssh: Bool
    public var pid: Int32?
  }

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

    let started = Date()
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
      progress(String(format: "lab \(name): %d node(s) up in %.1f s", launching.count, Date().timeIntervalSince(started)))
    }
    try loadBaseImage(layout)
    try pinHostKeys(layout)
    try AtomicFile.write(LabFiles.clusterFile(layout, managers: managers), to: layout.clusterFile)
    return layout
  }

  /// The lowest subnet index no other lab here uses and no host interface has an address in.
  func freeIndex() throws(PiSwarmError) -> Int {
    let taken = Set(LabState.all(stateDirectory: stateDirectory).map(\.index))
    let addresses = (try? Command("ip", ["-4", "-o", "addr", "show"]).run().stdoutText) ?? ""
    for index in 1...254 where !taken.contains(index) {
      let prefix = "\(LabLayout.subnetPrefix.0).\(LabLayout.subnetPrefix.1).\(index)."
      if !addresses.contains(" \(prefix)") { return index }
    }
    throw PiSwarmError(.system, "no free lab subnet left in 10.231.0.0/16", advice: "remove a lab with 'piswarm lab down'")
  }

  /// Mount points the node mounts need must exist on the host.
  func prepareHost(_ layout: LabLayout) throws(PiSwarmError) {
    // Called under the machine lock; the record is machine-wide, since labs of other state
    // directories use the same mount points.
    for path in ["/var/lib/docker", "/var/lib/containerd", DockerStorageLayout.base, "/etc/docker", "/etc/ssh"]
    where !Files.exists(path) {
      try Files.makeDirectory(path, mode: 0o711)
      let existing = (try? String(contentsOfFile: Self.mountPointRecord, encoding: .utf8)) ?? ""
      try AtomicFile.write(existing + path + "\n", to: Self.mountPointRecord, mode: 0o600)
    }
    if !Files.exists(layout.keyPath) {
      try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm-lab-\(layout.name)", "-f", layout.keyPath])
        .check()
    }
    if !Files.exists(layout.baseImageTar) { try makeBaseImage(layout) }
  }

  /// A 2 MB image from busybox-static: enough for services without a registry.
  func makeBaseImage(_ layout: LabLayout) throws(PiSwarmError) {
    let root = layout.directory + "/base-rootfs"
    try? FileManager.default.removeItem(atPath: root)
    try Files.makeDirectory(root + "/bin", mode: 0o755)
    for folder in ["etc", "tmp", "proc", "sys", "dev", "root", "var/www"] {
      try Files.makeDirectory(root + "/" + folder, mode: 0o755)
    }
    guard let busybox = Command.resolve("busybox") else { throw PiSwarmError(.system, "busybox is not installed") }
    do { try FileManager.default.copyItem(atPath: busybox, toPath: root + "/bin/busybox") } catch {
      throw PiSwarmError(.system, "cannot copy busybox", cause: "\(error)")
    }
    try Command(root + "/bin/busybox", ["--install", "-s", root + "/bin"]).check()
    // --install -s links to the absolute path of the copy; point them at /bin/busybox instead.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/bin")) ?? [] where name != "busybox" {
      let link = root + "/bin/" + name
      try? FileManager.default.removeItem(atPath: link)
      try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "busybox")
    }
    try AtomicFile.write("root:x:0:0:root:/root:/bin/sh\n", to: root + "/etc/passwd")
    try AtomicFile.write("<h1>piswarm lab</h1>\n", to: root + "/var/www/index.html")
    try Command("tar", ["-C", root, "-cf", layout.baseImageTar + ".tmp", "."]).check()
    guard rename(layout.baseImageTar + ".tmp", layout.baseImageTar) == 0 else {
      throw PiSwarmError(.system, "cannot write \(layout.baseImageTar)")
    }
    try? FileManager.default.removeItem(atPath: root)
  }

  /// The switch: a namespace with a bridge, and a veth from the host (the head) to it.
  func makeSwitch(_ layout: LabLayout) throws(PiSwarmError) {
    let namespaces = Set(Self.namespaces())
    if !namespaces.contains(layout.switchNamespace) {
      try ip(["netns", "add", layout.switchNamespace])
      try ip(
        ["-n", layout.switchNamespace, "-batch", "-"],
        input: """
          link set lo up
          link add \(layout.bridge) type bridge stp_state 0 forward_delay 0
          link set \(layout.bridge) up

          """)
    }
    if !linkExists(layout.hostInterface) {
      try ip([
        "link", "add", layout.hostInterface, "address", layout.headMAC.description, "type", "veth", "peer", "name", "head",
        "netns", layout.switchNamespace,
      ])
      try ip(["-n", layout.switchNamespace, "link", "set", "head", "master", layout.bridge, "up"])
      _ = try? Command("sysctl", ["-qw", "net.ipv6.conf.\(layout.hostInterface).disable_ipv6=1"]).run()
      try ip(["addr", "add", layout.headAddress.description, "dev", layout.hostInterface])
      try ip(["link", "set", layout.hostInterface, "up"])
    }
  }

  func prepareFiles(_ layout: LabLayout, _ node: LabLayout.Node) throws(PiSwarmError) {
    let directory = node.directory
    for folder in [
      "etc-ssh", "root", "root/.ssh", "etc-docker", "var-lib-docker", "var-lib-containerd", "var-lib-piswarm-node", "var-log",
      "tmp", "etc-init.d",
    ] {
      try Files.makeDirectory(directory + "/" + folder, mode: folder.hasPrefix("root") ? 0o700 : 0o755)
    }
    chmod(directory + "/tmp", 0o1777)
    let hostKey = directory + "/etc-ssh/ssh_host_ed25519_key"
    if !Files.exists(hostKey) {
      try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@\(node.name)", "-f", hostKey]).check()
    }
    if Files.exists("/etc/ssh/moduli"), !Files.exists(directory + "/etc-ssh/moduli") {
      try? FileManager.default.copyItem(atPath: "/etc/ssh/moduli", toPath: directory + "/etc-ssh/moduli")
    }
    try AtomicFile.write(LabFiles.sshdConfig(node), to: directory + "/etc-ssh/sshd_config")
    try AtomicFile.write(try Files.read(layout.keyPath + ".pub"), to: directory + "/root/.ssh/authorized_keys", mode: 0o600)
    // 'piswarm up' may have changed these since: a new 'lab up' keeps them.
    if !Files.exists(directory + "/etc-docker/daemon.json") {
      try AtomicFile.write(LabFiles.daemonJSON(layout, node), to: directory + "/etc-docker/daemon.json")
    }
    if !Files.exists(directory + "/fstab") { try AtomicFile.write(LabFiles.fstab, to: directory + "/fstab") }
    try AtomicFile.write(LabFiles.hosts(layout, node), to: directory + "/hosts")
    try AtomicFile.write(node.name + "\n", to: directory + "/hostname")
    try AtomicFile.write(LabFiles.initScript(layout, node), to: directory + "/init.sh", mode: 0o755)
    try AtomicFile.write(LabFiles.dockerService, to: directory + "/etc-init.d/docker", mode: 0o755)
  }

  func makeNetwork(_ layout: LabLayout, _ node: LabLayout.Node) throws(PiSwarmError) {
    if Self.namespaces().contains(node.namespace) { return }
    try ip(["netns", "add", node.namespace])
    try ip(
      ["-n", layout.switchNamespace, "-batch", "-"],
      input: """
        link add \(node.port) type veth peer name eth0 address \(node.mac) netns \(node.namespace)
        link set \(node.port) master \(layout.bridge) up

        """)
    try ip(
      ["-n", node.namespace, "-batch", "-"],
      input: """
        link set lo up
        addr add \(node.ip)/24 dev eth0
        link set eth0 up

        """)
  }

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
    let deadline = Date().addingTimeInterval(timeout)
    var waiting = nodes
    while !waiting.isEmpty {
      waiting = waiting.filter { node in
        guard let launcher = state.launchers[node.name] else { return false }
        return !isReady(node, launcher: launcher)
      }
      if waiting.isEmpty { break }
      if Date() > deadline {
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

  /// Loads the busybox image into every node that lacks it.
  func loadBaseImage(_ layout: LabLayout) throws(PiSwarmError) {
    guard let state = LabState.load(name: layout.name, stateDirectory: stateDirectory) else { return }
    let docker = Command.resolve("/usr/bin/docker") ?? "docker"
    var loaded = 0
    for node in layout.nodes {
      guard let launcher = state.launchers[node.name], let socket = dockerSocket(launcher) else { continue }
      if Probes.unixHTTPGet(socket: socket, path: "/images/\(Self.baseImage)/json")?.status == 200 { continue }
      try Command(
        docker, ["-H", "unix://\(socket)", "import", layout.baseImageTar, Self.baseImage],
        environment: ["DOCKER_CONFIG": layout.directory + "/.docker"]
      ).check()
      loaded += 1
    }
    if loaded > 0 { progress("lab \(layout.name): loaded \(Self.baseImage) on \(loaded) node(s)") }
  }

  public static let baseImage = "piswarm/base:latest"

  /// Pins each node's host key in the lab's known_hosts and in piswarm's own.
  func pinHostKeys(_ layout: LabLayout) throws(PiSwarmError) {
    var lines: [String] = []
    for node in layout.nodes {
      let key = try Files.read(node.directory + "/etc-ssh/ssh_host_ed25519_key.pub")
      lines.append(LabFiles.knownHostsLine(node, publicKey: String(decoding: key, as: UTF8.self)))
    }
    try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: layout.knownHostsPath, mode: 0o600)
    try KnownHosts.replace(hosts: layout.nodes.map(\.ip.description), with: lines, in: stateDirectory + "/known_hosts")
  }

  // MARK: - Node power

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

  // MARK: - down

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

  // MARK: - status

  public func status(name: String) -> [NodeStatus] {
    guard let state = LabState.load(name: name, stateDirectory: stateDirectory) else { return [] }
    return state.layout(stateDirectory: stateDirectory).nodes.map { node in
      let launcher = state.launchers[node.name].flatMap { isLauncher($0, of: node) ? $0 : nil }
      let docker =
        launcher.flatMap(dockerSocket).map { Probes.unixHTTPGet(socket: $0, path: "/_ping", timeout: 1)?.status == 200 } ?? false
      let ssh = launcher != nil && Probes.tcpBanner(host: node.ip, port: 22, timeout: 1)?.hasPrefix("SSH-") == true
      return NodeStatus(
        name: node.name, ip: node.ip.description, mac: node.mac.description, running: launcher != nil, docker: docker, ssh: ssh,
        pid: launcher.flatMap(initPID))
    }
  }

  // MARK: - helpers

  static func namespaces() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).sorted()
  }

  func linkExists(_ name: String) -> Bool { Files.exists("/sys/class/net/\(name)") }

  func ip(_ arguments: [String], input: String? = nil) throws(PiSwarmError) {
    try Command("ip", arguments).check(input: input.map { Data($0.utf8) })
  }
}
