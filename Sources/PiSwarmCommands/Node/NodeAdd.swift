import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

struct NodeAdd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    abstract: "Add a node, or a range of nodes, to the cluster file.",
    discussion: """
      The new entry goes at the end of the nodes list; the rest of the file is left as it is.
      Without --ip the node gets the next free address after the highest one in use. The whole
      file is validated before it is written: on any error nothing changes.

      A range of names (node[02-10]) adds one entry for all of them, written as in the cluster
      file: --ip and --mac then take the first node's address followed by "+", and each next
      node gets the address after.

      Examples:
        piswarm node add node04 --ip 192.168.50.14 --mac b8:27:eb:00:00:04
        piswarm node add node05 --serial 1a2b3c4d --model pi4 --label rack=b
        piswarm node add 'node[06-10]' --ip 192.168.50.16+ --mac b8:27:eb:00:00:06+ --model pi4
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The node's host name (RFC 1123: lowercase letters, digits, '-'), or a range like node[02-10].")
  var name: String

  @Option(help: "Its address on the cluster network (default: the next free one); FIRST+ for a range.")
  var ip: String?

  @Option(help: "Its Ethernet MAC address, e.g. b8:27:eb:12:34:56; FIRST+ for a range.")
  var mac: String?

  @Option(help: "Its board serial (8 or 16 hex digits, as in /proc/cpuinfo); not for a range.")
  var serial: String?

  @Option(help: "Its board model: \(BoardModel.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: String?

  @Option(help: "How it boots: \(BootMode.allCases.map(\.rawValue).joined(separator: ", ")) (default: defaults.boot).")
  var boot: String?

  @Option(help: "Docker storage: root, loopfile:SIZE, device:/dev/…, tmpfs:SIZE (default: by boot mode).")
  var storage: String?

  @Option(name: .customLong("label"), help: "A label KEY=VALUE; repeat for more.")
  var labels: [String] = []

  /// The range `name` stands for, or nil for one node.
  var range: HostRange? { try? HostRange.parse(name)?.get() }

  func validate() throws {
    var count = 1
    var isRange = false
    switch HostRange.parse(name) {
    case nil:
      if let problem = HostName.problem(with: name) { throw ValidationError("node name \"\(name)\": \(problem)") }
    case .failure(let failure)?:
      throw ValidationError("node name \(failure.message)")
    case .success(let range)?:
      if let problem = range.nameProblem {
        throw ValidationError("range \"\(name)\" makes names like \"\(range.name(range.first))\": \(problem)")
      }
      if serial != nil {
        throw ValidationError(
          "--serial belongs to one board, and \(name) is a range of \(range.count): add that board on its own")
      }
      count = range.count
      isRange = true
    }
    if let ip, case .failure(let problem) = IPv4Address.consecutive(ip, count: count, isRange: isRange) {
      throw ValidationError(Self.message(problem, option: "--ip", value: ip, example: "10.42.0.12"))
    }
    if let mac, case .failure(let problem) = MACAddress.consecutive(mac, count: count, isRange: isRange) {
      throw ValidationError(Self.message(problem, option: "--mac", value: mac, example: "b8:27:eb:00:00:02"))
    }
    if let model, BoardModel(rawValue: model) == nil {
      throw ValidationError("--model \"\(model)\" is not one of \(BoardModel.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if let boot, BootMode(rawValue: boot) == nil {
      throw ValidationError("--boot \"\(boot)\" is not one of netboot, sd, preinstalled")
    }
    if let storage, case .failure(let failure) = DockerStorage.parse(storage) {
      throw ValidationError("--storage: \(failure.message)")
    }
    for label in labels where !label.contains("=") { throw ValidationError("--label \"\(label)\" is not KEY=VALUE, e.g. rack=a") }
  }

  /// What is wrong with `value` given for `option`, in the words of the command line.
  static func message(_ problem: Consecutive.Problem, option: String, value: String, example: String) -> String {
    switch problem {
    case .malformed:
      "\(option) \"\(value)\" is not \(option == "--ip" ? "an IPv4" : "a MAC") address, e.g. \(example)"
    case .rangeNeedsPlus:
      "\(option) \"\(value)\": a range of names takes the first node's address followed by \"+\", e.g. \(option) \(value)+"
    case .plusNeedsRange:
      "\(option) \"\(value)\": FIRST+ is only for a range of names (node[02-10]); give one address"
    case .runsOut(let first):
      "\(option) \"\(value)\": the addresses from \(first) run out before the range's last node"
    }
  }

  func spec(in cluster: Cluster) throws(PiSwarmError) -> ClusterFileEditor.NodeSpec {
    let isRange = range != nil
    var address = ip.flatMap { try? IPv4Address.consecutive($0, count: 1, isRange: isRange).get().first }
    if address == nil {
      address = NodeAddress.nextFree(in: cluster)
      guard address != nil else {
        throw PiSwarmError(
          .invalidInput, "no free address left in \(cluster.head.address.networkDescription)", advice: "give one with --ip")
      }
    }
    guard let address else { throw PiSwarmError(.invalidInput, "no address") }
    let storage = self.storage.flatMap { try? DockerStorage.parse($0).get() }
    return ClusterFileEditor.NodeSpec(
      name: name, ip: address, mac: mac.flatMap { try? MACAddress.consecutive($0, count: 1, isRange: isRange).get().first },
      serial: serial,
      model: model.flatMap { BoardModel(rawValue: $0) },
      boot: boot.flatMap { BootMode(rawValue: $0) }, dockerStorage: storage,
      labels: labels.map { label in
        let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
      })
  }

  func run() throws {
    try reporting {
      _ = try prepare()  // Check everything before touching the state directory.
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let (path, text, spec) = try prepare()  // Again under the lock: the file may have changed.
        try AtomicFile.write(text, to: path)
        Console.out("added \(Self.describe(spec, range: range)) to \(path)\n")
      }
    }
  }

  /// The edited file text, validated; throws (printing diagnostics) when it would be invalid.
  func prepare() throws(PiSwarmError) -> (String, String, ClusterFileEditor.NodeSpec) {
    let loaded = try global.loadCluster(printWarnings: false)
    for name in range?.names ?? [name] {
      guard let existing = loaded.cluster.node(named: name) else { continue }
      throw PiSwarmError(
        .exists, "node \(name) is already in \(loaded.path) (line \(existing.location.line))",
        advice: "pick another name, or 'piswarm node rm \(existing.range ?? name)' first")
    }
    let spec = try spec(in: loaded.cluster)
    let text = try ClusterFileEditor.adding(spec, to: loaded.text)
    try NodeEdit.checkResult(text, path: loaded.path, before: loaded.diagnostics, what: "adding \(name)")
    return (loaded.path, text, spec)
  }

  /// "node04 (10.42.0.14)", or "node[02-10] (9 nodes, 10.42.0.12 to 10.42.0.20)".
  static func describe(_ spec: ClusterFileEditor.NodeSpec, range: HostRange?) -> String {
    guard let range, let last = spec.ip.advanced(by: range.count - 1) else { return "\(spec.name) (\(spec.ip))" }
    return "\(spec.name) (\(range.count) nodes, \(spec.ip) to \(last))"
  }
}
