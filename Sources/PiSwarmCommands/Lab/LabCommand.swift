import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lab",
    abstract: "A virtual Pi cluster on this machine: real sshd and dockerd in network namespaces.",
    discussion: """
      Each node has its own network namespace on a private lab bridge (10.231.N.0/24; nothing is
      routed out of it), its own host name, mounts, PID namespace, an OpenSSH sshd with key-only
      login and its own dockerd, with a small busybox image loaded. 'lab up' writes the lab's
      cluster.yml and prints its path last, so that 'piswarm --file PATH …' works on the lab.
      Needs root.

      Examples:
        piswarm lab up --nodes 5 --managers 3
        piswarm lab stop node02 && piswarm lab start node02
        piswarm lab down
      """,
    subcommands: [LabUp.self, LabDown.self, LabList.self, LabStop.self, LabStart.self, LabKill.self]
  )
}

struct LabOptions: ParsableArguments {
  @Option(help: "The lab's name (at most \(LabLayout.maximumNameLength) of a-z, 0-9, '-').")
  var name = "lab"
}

extension GlobalOptions {
  func lab() -> VirtualLab {
    VirtualLab(stateDirectory: stateDirectory) { Console.err($0) }
  }
}

struct LabUp: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "up",
    abstract: "Create a lab, or grow it, and start every node that is not running.",
    discussion: """
      Idempotent: running it again starts only what is stopped, and a larger --nodes adds nodes.
      The last line of the output is the path of the lab's cluster.yml.

      Example:
        piswarm lab up --nodes 3
        piswarm --file "$(piswarm lab up --nodes 3 | tail -n 1)" node ls
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions

  @Option(help: "How many nodes (1 to \(LabLayout.maximumNodes)).")
  var nodes = 3

  @Option(help: "How many of them are swarm managers (default: 3 with three or more nodes, else 1).")
  var managers: Int?

  func validate() throws {
    if let problem = LabLayout.problem(withName: options.name) { throw ValidationError("--name \"\(options.name)\": \(problem)") }
    guard (1...LabLayout.maximumNodes).contains(nodes) else {
      throw ValidationError("--nodes must be 1 to \(LabLayout.maximumNodes)")
    }
    if let managers, managers < 1 || managers > nodes { throw ValidationError("--managers must be 1 to --nodes (\(nodes))") }
  }

  func run() throws {
    try reporting {
      let layout = try global.mutating(commandLine) { _ throws(PiSwarmError) in
        try global.lab().up(name: options.name, nodes: nodes, managers: managers)
      }
      let statuses = global.lab().status(name: layout.name)
      Console.out(
        LabTables.nodes(
          statuses, managers: LabState.load(name: layout.name, stateDirectory: global.stateDirectory)?.managers ?? 0))
      Console.out(layout.clusterFile + "\n")
    }
  }
}

struct LabDown: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "down",
    abstract: "Stop a lab and remove everything it made.",
    discussion: """
      Stops every node (dockerd first, cleanly), then removes the namespaces, links, cgroups,
      pinned host keys and files of the lab. Also cleans up after an 'up' that crashed half-way.

      Example:
        piswarm lab down --name lab
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().down(name: options.name) }
      // The docker context 'piswarm up' wrote for the lab's cluster goes with it.
      DockerContextFiles.remove(cluster: LabFiles.clusterName(options.name))
      Console.out("lab \(options.name) removed\n")
    }
  }
}

struct LabList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the labs and their nodes' state.",
    discussion: """
      Examples:
        piswarm lab ls
        piswarm lab ls --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Entry: Encodable {
    var name: String
    var subnet: String
    var clusterFile: String
    var nodes: [VirtualLab.NodeStatus]
  }

  func run() throws {
    try reporting {
      let lab = global.lab()
      let entries = LabState.all(stateDirectory: global.stateDirectory).map { state in
        let layout = state.layout(stateDirectory: lab.stateDirectory)
        return Entry(
          name: state.name, subnet: layout.headAddress.networkDescription, clusterFile: layout.clusterFile,
          nodes: lab.status(name: state.name))
      }
      if json {
        Console.out(try Console.json(entries))
        return
      }
      let rows = entries.map { entry in
        [
          entry.name, entry.subnet, "\(entry.nodes.filter(\.running).count)/\(entry.nodes.count)",
          "\(entry.nodes.filter(\.docker).count)/\(entry.nodes.count)", entry.clusterFile,
        ]
      }
      Console.out(TextTable.render(header: ["LAB", "SUBNET", "RUNNING", "DOCKER", "CLUSTER FILE"], rows: rows))
    }
  }
}

struct LabNodeArguments: ParsableArguments {
  @Argument(help: "The node, e.g. node02.")
  var node: String
}

struct LabStop: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stop", abstract: "Power a lab node off (dockerd stops cleanly, then the node's processes end).",
    discussion: "Example:\n  piswarm lab stop node02")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().stop(lab: options.name, node: target.node) }
      Console.out("\(target.node) stopped\n")
    }
  }
}

struct LabStart: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start", abstract: "Power a lab node on and wait until sshd and dockerd answer.",
    discussion: "Example:\n  piswarm lab start node02")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().start(lab: options.name, node: target.node) }
      Console.out("\(target.node) running\n")
    }
  }
}

struct LabKill: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kill", abstract: "Crash a lab node's dockerd (SIGKILL); the node itself keeps running.",
    discussion: "Example:\n  piswarm lab kill node01")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @OptionGroup var target: LabNodeArguments

  func run() throws {
    try reporting {
      try global.lab().killDocker(lab: options.name, node: target.node)
      Console.out("\(target.node): dockerd killed\n")
    }
  }
}

enum LabTables {
  static func nodes(_ statuses: [VirtualLab.NodeStatus], managers: Int) -> String {
    let rows = statuses.enumerated().map { index, node in
      [
        node.name, node.ip, node.mac, index < managers ? "manager" : "worker", node.running ? "running" : "stopped",
        node.ssh ? "up" : "down", node.docker ? "up" : "down",
      ]
    }
    return TextTable.render(header: ["NODE", "IP", "MAC", "ROLE", "STATE", "SSH", "DOCKER"], rows: rows)
  }
}
