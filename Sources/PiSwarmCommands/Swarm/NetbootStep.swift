import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmNetboot
import PiSwarmStore
import PiSwarmSystem

/// `up`'s and `plan`'s netboot step, for a cluster with netboot nodes: what `netboot apply`
/// does, as planned actions. `observe` is a dry run of the same code (`NetbootApply.run` and
/// `NodeRoots`, writing nothing); the actions run it for real: each node's root, then the
/// files (restarts deferred), then each restart the files owe.
struct NetbootStep: Sendable {
  let cluster: Cluster
  let stateDirectory: String
  /// The cluster's SSH key, when ssh.key does not name one ('piswarm init' made it).
  let defaultKey: String
  /// Extra dnsmasq option lines (tests: `no-ping`), as `netboot apply --dnsmasq-option`.
  let dnsmasqExtra: [String]
  var services: any ServiceControl = SystemdServices()

  init(_ cluster: Cluster, global: GlobalOptions, dnsmasqExtra: [String]) {
    self.cluster = cluster
    stateDirectory = global.stateDirectory
    defaultKey = global.defaultKey
    self.dnsmasqExtra = dnsmasqExtra
  }

  var nodes: [Node] { NFSExports.netbootNodes(cluster) }
  var paths: NetbootPaths { NetbootPaths(stateDirectory: Files.absolute(stateDirectory)) }

  /// `netboot apply`'s options: the image store's firmware; Pi 4/5 nodes whose last facts
  /// report their eeprom: settings are offered no update.
  static func options(
    _ cluster: Cluster, store: SQLiteStateStore?, filesOnly: Bool, firmware: String?, dnsmasqExtra: [String]
  ) -> NetbootApply.Options {
    var options = NetbootApply.Options(
      filesOnly: filesOnly, firmwareDirectory: firmware, dnsmasqExtra: dnsmasqExtra)
    for node in cluster.nodes where !node.eeprom.settings.isEmpty {
      let facts = (try? store?.facts(node: node.name)) ?? []
      if let reported = facts.first(where: { $0.name == "bootloader_config" }) {
        options.eepromReported[node.name] = reported.value
      }
    }
    return options
  }

  func options(store: SQLiteStateStore?) -> NetbootApply.Options {
    Self.options(cluster, store: store, filesOnly: false, firmware: nil, dnsmasqExtra: dnsmasqExtra)
  }

  /// The roots' session (the image checked, the method for new roots chosen).
  func session(store: SQLiteStateStore?, dryRun: Bool) throws(PiSwarmError) -> NodeRoots.Session? {
    guard let image = cluster.defaults.image else { return nil }
    let key = try NodeRoots.authorizedKey(cluster, defaultKey: defaultKey)
    return try NodeRoots.Session(
      cluster, image: image, method: nil, stateDirectory: stateDirectory, authorizedKey: key, store: store, dryRun: dryRun)
  }

  /// A dry run of netboot apply and of each netboot node's root: nil for a cluster without
  /// netboot nodes. Writes nothing. `warnings` are apply's (no firmware, dnsmasq not restarted
  /// without systemd, …) and why roots are not planned.
  func observe(store: SQLiteStateStore?) -> (observation: NetbootObservation, warnings: [String])? {
    guard !nodes.isEmpty else { return nil }
    var seen = NetbootObservation()
    var warnings: [String] = []
    var options = options(store: store)
    options.dryRun = true
    do {
      let result = try NetbootApply.run(cluster, paths: paths, options: options, services: services)
      seen.changes = result.changes.map(\.path)
      seen.restarts = result.owed
      warnings += result.warnings
    } catch {
      seen.error = "\(error)"
    }
    guard cluster.defaults.image != nil else {
      warnings.append("no defaults.image in the cluster file: node roots are not made (see 'piswarm image import')")
      return (seen, warnings)
    }
    do throws(PiSwarmError) {
      guard let session = try session(store: store, dryRun: true) else { return (seen, warnings) }
      for node in nodes {
        do throws(PiSwarmError) {
          let result = try session.make(node)
          seen.roots[node.name] =
            result.created
            ? .missing(image: result.image)
            : result.changed.isEmpty ? .current : .stale(image: result.image, paths: result.changed)
          warnings += result.warnings.map { "\(node.name): \($0)" }
        } catch {
          seen.roots[node.name] = .failed("\(error)")
        }
      }
    } catch {
      for node in nodes { seen.roots[node.name] = .failed("\(error)") }
    }
    return (seen, warnings)
  }

  /// Makes (or converges) `node`'s root, as `netboot apply` does, and records it.
  func makeRoot(_ node: Node, store: SQLiteStateStore?) -> (error: String?, notes: [String]) {
    do {
      guard let session = try session(store: store, dryRun: false) else { return ("no defaults.image in the cluster file", []) }
      let result = try session.make(node)
      return (nil, [NodeRoots.Session.said(result)] + result.warnings.map { "warning: \($0)" })
    } catch {
      return ("\(error)", [])
    }
  }

  /// Writes the netboot files, restarting nothing: the restarts are actions of their own.
  func writeFiles(store: SQLiteStateStore?) -> (error: String?, notes: [String], warnings: [String]) {
    var options = options(store: store)
    options.deferRestarts = true
    do {
      let result = try NetbootApply.run(cluster, paths: paths, options: options, services: services)
      return (nil, ["\(result.changes.count) change(s)"], result.warnings)
    } catch {
      return ("\(error)", [], [])
    }
  }

  /// Restarts (or reloads) `service`, which the files owe.
  func restart(_ service: NetbootRestart) -> String? {
    do {
      try NetbootApply.restart(service, paths: paths, services: services, head: cluster.head)
      return nil
    } catch {
      return "\(error)"
    }
  }
}

/// The hidden options `up` and `plan` share for the netboot step.
struct NetbootStepOptions: ParsableArguments {
  @Option(name: .customLong("dnsmasq-option"), help: ArgumentHelp("An extra dnsmasq option line (tests).", visibility: .hidden))
  var dnsmasqOptions: [String] = []
}
