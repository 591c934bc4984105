import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// The virtual lab, for real: namespaces, sshd, dockerd. Each test uses its own state directory
/// and lab names unique to its run, and takes its lab down even when it fails.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct LabIntegrationTests {
  static var binary: String { TestBinary.piswarm() }

  struct Lab {
    let state: TemporaryDirectory
    let name: String

    init() {
      state = TemporaryDirectory("piswarm-it")
      name = "it" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    @discardableResult
    func piswarm(_ arguments: [String], timeout: Double = 180) throws -> Command.Output {
      var environment = ProcessInfo.processInfo.environment
      environment["PISWARM_STATE_DIR"] = state.path
      environment["PISWARM_FILE"] = nil
      environment["DOCKER_CONFIG"] = dockerConfig
      return try Command(LabIntegrationTests.binary, arguments, environment: environment, timeout: timeout).run()
    }

    func ssh(_ ip: String, _ command: String, connectTimeout: Int = 5) throws -> Command.Output {
      try Command(
        "ssh",
        [
          "-i", "\(state.path)/labs/\(name)/id_ed25519", "-o", "UserKnownHostsFile=\(state.path)/known_hosts",
          "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=\(connectTimeout)",
          "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "root@\(ip)", command,
        ], timeout: 30
      ).run()
    }

    /// `piswarm lab up` for this lab; the path of the cluster file it wrote.
    func up(nodes: Int, managers: Int) throws -> String {
      let up = try piswarm(["lab", "up", "--name", name, "--nodes", "\(nodes)", "--managers", "\(managers)"])
      try #require(up.status == 0, "\(up.stderrText)")
      return up.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// The head's registry instances an `up` of this lab started (stacks: or registry: turn
    /// them on), by the PIDs piswarm keeps, when they are still the registry of this state.
    func stopHeadRegistry() { Self.stopHeadRegistry(state: state.path) }

    /// The same for any state directory (the diskless boot tests' labs).
    static func stopHeadRegistry(state: String) {
      let pids = ["private", "cache"].compactMap { role -> pid_t? in
        guard let text = Files.readWhole("\(state)/registry/\(role).pid"),
          let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
          Processes.commandLine(pid).contains(where: { $0.hasPrefix(state + "/") })
        else { return nil }
        return pid
      }
      Cleanup.kill(pids)
    }

    /// The docker CLI's configuration for this lab's tests (contexts), never the user's.
    var dockerConfig: String { state.path + "/docker-config" }

    /// Takes the lab down, then records anything of it still on the machine (mounts, loop
    /// devices, namespaces, links, cgroups, processes), scoped to this lab's name and folder.
    func down() {
      _ = try? piswarm(["lab", "down", "--name", name])
      stopHeadRegistry()
      var left = Leftovers.waitForNone(paths: [state.path], namespacePrefixes: ["pslab-\(name)-"])
      left += Footprint(labs: [self]).items().filter { !left.contains($0) }
      if !left.isEmpty { Issue.record("lab \(name) left behind: \(left)") }
    }
  }

  /// Everything of the given labs that exists on this machine: network namespaces, links,
  /// mounts, cgroups, and live processes (found through their command line or their PID
  /// namespace). Zombies have ended and are not counted: reaping them is their parent's job.
  struct Footprint {
    var labs: [Lab]
    /// PID namespaces of the labs' nodes, recorded while they ran.
    var pidNamespaces: Set<String> = []

    /// Device and inode of the labs' Docker storage image files, recorded while they exist: a loop device
    /// still backed by one is a leftover (its path reads as the node saw it, so match by inode).
    var loopFileInodes: Set<String> = []

    mutating func recordLoopFiles() {
      for lab in labs {
        let nodes = "\(lab.state.path)/labs/\(lab.name)/nodes"
        for node in (try? FileManager.default.contentsOfDirectory(atPath: nodes)) ?? [] {
          let file = "\(nodes)/\(node)/var-lib-piswarm-node/docker.ext4"
          if let attributes = try? FileManager.default.attributesOfItem(atPath: file),
            let inode = attributes[.systemFileNumber] as? NSNumber, let device = attributes[.systemNumber] as? NSNumber
          {
            let dev = device.uint64Value
            let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
            let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
            loopFileInodes.insert("\(major):\(minor) \(inode.stringValue)")
          }
        }
      }
    }

    mutating func recordNamespaces() {
      let host = Processes.pidNamespace(getpid())
      for pid in Processes.all() where mentions(Processes.commandLine(pid)) {
        // The launchers live in the host's PID namespace; the nodes' inits in their own.
        if let namespace = Processes.pidNamespace(pid), namespace != host { pidNamespaces.insert(namespace) }
      }
    }

    func mentions(_ words: [String]) -> Bool {
      labs.contains { lab in words.contains { $0.contains(lab.state.path) } }
    }

    func items() -> [String] {
      var found: [String] = []
      for lab in labs {
        found += ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [])
          .filter { $0 == "pslab-\(lab.name)" || $0.hasPrefix("pslab-\(lab.name)-") }.map { "namespace \($0)" }
        if Files.exists("/sys/class/net/psl-\(lab.name)") { found.append("link psl-\(lab.name)") }
        let alias = "/etc/ssh/ssh_config.d/piswarm-lab-\(lab.name).conf"
        if Files.exists(alias) { found.append("file \(alias)") }
        found += Mounts.points().filter { $0.contains(lab.state.path) || $0.contains("pslab-\(lab.name)") }.map { "mount \($0)" }
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
          if Files.exists("/sys/fs/cgroup/\(hierarchy)/pslab-\(lab.name)") {
            found.append("cgroup \(hierarchy)/pslab-\(lab.name)")
          }
        }
      }
      if !loopFileInodes.isEmpty {
        let loops = (try? Command("losetup", ["-l", "-n", "-O", "NAME,BACK-MAJ:MIN,BACK-INO"]).run().stdoutText) ?? ""
        for line in loops.split(separator: "\n") {
          let fields = line.split(separator: " ", omittingEmptySubsequences: true)
          if fields.count == 3, loopFileInodes.contains("\(fields[1]) \(fields[2])") { found.append("loop device \(fields[0])") }
        }
      }
      for pid in Processes.all() where Processes.isAlive(pid) {
        if mentions(Processes.commandLine(pid)) || Processes.pidNamespace(pid).map(pidNamespaces.contains) == true {
          found.append("process \(pid) \(Processes.name(pid))")
        }
      }
      return found
    }
  }

  @Test func threeNodesAnswerSSHWithTheirOwnNamesAndDockerThenLeaveNothingBehind() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    var footprint = Footprint(labs: [lab])

    let up = try lab.piswarm(["lab", "up", "--name", lab.name, "--nodes", "3"])
    #expect(up.status == 0, "\(up.stderrText)")
    let clusterFile = up.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    #expect(clusterFile == "\(lab.state.path)/labs/\(lab.name)/cluster.yml")
    let validate = try lab.piswarm(["--file", clusterFile, "validate"])
    #expect(validate.status == 0, "\(validate.stderrText)")
    let list = try lab.piswarm(["--file", clusterFile, "node", "ls", "--json"])
    let nodes = try JSONDecoder().decode([NodeListing.Entry].self, from: list.stdout)
    #expect(nodes.count == 3)
    footprint.recordNamespaces()
    #expect(footprint.pidNamespaces.count == 3)
    // The detector sees the running lab, so that its emptiness after 'down' means something.
    let running = footprint.items()
    #expect(running.contains("link psl-\(lab.name)"))
    #expect(running.filter { $0.hasSuffix(" dockerd") }.count == 3, "\(running)")
    #expect(running.filter { $0.hasSuffix(" sshd") }.count >= 3)

    for node in nodes {
      let result = try lab.ssh(
        node.ip, "hostname; docker info --format '{{.Name}} {{.Driver}}'; docker image ls --format '{{.Repository}}'")
      #expect(result.status == 0, "\(node.name): \(result.stderrText)")
      let lines = result.stdoutText.split(separator: "\n").map(String.init)
      #expect(lines.first == node.name)
      #expect(lines.dropFirst().first == "\(node.name) overlay2")
      #expect(lines.contains("piswarm/base"))
    }
    // Each node has its own dockerd: three different engine IDs.
    var ids = Set<String>()
    for node in nodes { ids.insert(try lab.ssh(node.ip, "docker info --format '{{.ID}}'").stdoutText) }
    #expect(ids.count == 3)

    // Power a node off and on.
    let node2 = nodes[1]
    #expect(try lab.piswarm(["lab", "stop", "--name", lab.name, node2.name]).status == 0)
    #expect(try lab.ssh(node2.ip, "true", connectTimeout: 2).status != 0)
    #expect(try lab.ssh(nodes[0].ip, "hostname").stdoutText == "\(nodes[0].name)\n")
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, node2.name]).status == 0)
    let back = try lab.ssh(node2.ip, "hostname; docker info --format '{{.Name}}'")
    #expect(back.stdoutText == "\(node2.name)\n\(node2.name)\n", "\(back.stderrText)")

    // Crash a dockerd; the node stays up; start brings dockerd back.
    #expect(try lab.piswarm(["lab", "kill", "--name", lab.name, nodes[0].name]).status == 0)
    #expect(try lab.ssh(nodes[0].ip, "docker info --format '{{.Name}}'").status != 0)
    #expect(try lab.piswarm(["lab", "start", "--name", lab.name, nodes[0].name]).status == 0)
    #expect(try lab.ssh(nodes[0].ip, "docker info --format '{{.Name}}'").stdoutText == "\(nodes[0].name)\n")

    // up again changes nothing and starts nothing.
    let again = try lab.piswarm(["lab", "up", "--name", lab.name, "--nodes", "3"])
    #expect(again.status == 0)
    #expect(!again.stderrText.contains("starting"))

    let down = try lab.piswarm(["lab", "down", "--name", lab.name])
    #expect(down.status == 0, "\(down.stderrText)")
    let leftovers = footprint.items()
    #expect(leftovers.isEmpty, "left behind: \(leftovers)")
    #expect(!Files.exists("\(lab.state.path)/labs/\(lab.name)"))
  }

  @Test func twoLabsCoexistAndDownRemovesOnlyItsOwn() throws {
    guard Prerequisites.require() else { return }
    let first = Lab()
    let second = Lab()
    var footprint = Footprint(labs: [first])
    defer {
      first.down()
      second.down()
    }
    #expect(try first.piswarm(["lab", "up", "--name", first.name, "--nodes", "1"]).status == 0)
    #expect(try second.piswarm(["lab", "up", "--name", second.name, "--nodes", "1"]).status == 0)
    let ip1 = try #require(try first.piswarm(["lab", "ls", "--json"]).stdoutText.firstIPv4)
    let ip2 = try #require(try second.piswarm(["lab", "ls", "--json"]).stdoutText.firstIPv4)
    #expect(ip1 != ip2)
    footprint.recordNamespaces()
    #expect(try first.ssh(ip1, "hostname").status == 0)
    #expect(try second.ssh(ip2, "hostname").status == 0)
    #expect(try first.piswarm(["lab", "down", "--name", first.name]).status == 0)
    #expect(footprint.items().isEmpty, "\(footprint.items())")
    #expect(try second.ssh(ip2, "docker info --format '{{.Name}}'").stdoutText == "node01\n")
    var secondFootprint = Footprint(labs: [second])
    secondFootprint.recordNamespaces()
    #expect(try second.piswarm(["lab", "down", "--name", second.name]).status == 0)
    #expect(secondFootprint.items().isEmpty, "\(secondFootprint.items())")
  }

  @Test func downCleansUpAfterAnUpThatWasKilledHalfWay() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    var footprint = Footprint(labs: [lab])
    // Kill 'lab up' part-way through starting its nodes.
    let up = try Command(
      "/bin/sh",
      [
        "-c",
        "PISWARM_STATE_DIR=\(Shell.quote(lab.state.path)) timeout -s KILL 1.2 \(Shell.quote(Self.binary)) lab up --name \(lab.name) --nodes 4",
      ]
    ).run()
    #expect(up.status != 0)
    footprint.recordNamespaces()
    let down = try lab.piswarm(["lab", "down", "--name", lab.name])
    #expect(down.status == 0, "\(down.stderrText)")
    let leftovers = footprint.items()
    #expect(leftovers.isEmpty, "left behind: \(leftovers)")
  }
}

extension String {
  var firstIPv4: String? {
    guard let start = range(of: "\"ip\" : \"") else { return nil }
    return String(self[start.upperBound...].prefix { $0 != "\"" })
  }
}
