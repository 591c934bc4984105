import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

struct NodeAdd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    abstract: "Add a node to the cluster file.",
    discussion: """
      The new entry goes at the end of the nodes list; the rest of the file is left as it is.
      Without --ip the node gets the next free address after the highest one in use. The whole
      file is validated before it is written: on any error nothing changes.

      Examples:
        piswarm node add node04 --ip 192.168.50.14 --mac b8:27:eb:00:00:04
        piswarm node add node05 --serial 1a2b3c4d --model pi4 --label rack=b
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The node's host name (RFC 1123: lowercase letters, digits, '-').")
  var name: String

  @Option(help: "Its address on the cluster network (default: the next free one).")
  var ip: String?

  @Option(help: "Its Ethernet MAC address, e.g. b8:27:eb:12:34:56.")
  var mac: String?

  @Option(help: "Its board serial (8 or 16 hex digits, as in /proc/cpuinfo).")
  var serial: String?

  @Option(help: "Its board model: \(BoardModel.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: String?

  @Option(help: "How it boots: \(BootMode.allCases.map(\.rawValue).joined(separator: ", ")) (default: defaults.boot).")
  var boot: String?

  @Option(help: "Docker storage: root, loopfile:SIZE, device:/dev/…, tmpfs:SIZE (default: by boot mode).")
  var storage: String?

  @Option(name: .customLong("label"), help: "A label KEY=VALUE; repeat for more.")
  var labels: [String] = []

  func validate() throws {
    if let problem = HostName.problem(with: name) { throw ValidationError("node name \"\(name)\": \(problem)") }
    if let ip, IPv4Address(ip) == nil { throw ValidationError("--ip \"\(ip)\" is not an IPv4 address, e.g. 192.168.50.14") }
    if let mac, MACAddress(mac) == nil { throw ValidationError("--mac \"\(mac)\" is not a MAC address, e.g. b8:27:eb:12:34:56") }
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

  func spec(in cluster: Cluster) throws(PiSwarmError) -> ClusterFileEditor.NodeSpec {
    var address = ip.flatMap { IPv4Address($0) }
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
      name: name, ip: address, mac: mac.flatMap { MACAddress($0) }, serial: serial,
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
        Console.out("added \(spec.name) (\(spec.ip)) to \(path)\n")
      }
    }
  }

  /// The edited file text, validated; throws (printing diagnostics) when it would be invalid.
  func prepare() throws(PiSwarmError) -> (String, String, ClusterFileEditor.NodeSpec) {
    let loaded = try global.loadCluster(printWarnings: false)
    if let existing = loaded.cluster.node(named: name) {
      throw PiSwarmError(
        .exists, "node \(name) is already in \(loaded.path) (line \(existing.location.line))",
        advice: "pick another name, or 'piswarm node rm \(name)' first")
    }
    let spec = try spec(in: loaded.cluster)
    let text = try ClusterFileEditor.adding(spec, to: loaded.text)
    try NodeEdit.checkResult(text, path: loaded.path, before: loaded.diagnostics, what: "adding \(name)")
    return (loaded.path, text, spec)
  }
}
