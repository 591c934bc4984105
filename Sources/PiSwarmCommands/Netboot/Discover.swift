import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

struct Discover: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "discover",
    abstract: "List machines that asked to netboot but are not in the cluster file; --add appends them.",
    discussion: """
      Reads what piswarm's dnsmasq saw (its hook events and its log): PXE requests, DHCP requests
      with a PXEClient vendor class, TFTP requests. A Pi is recognised by the boot ROM's vendor
      class (PXEClient:Arch:00000:UNDI:002001), option 97 (Pi 4/5), the serial folder it asks
      for, or its MAC prefix. Run 'piswarm netboot apply' first, then power the boards on.
      Without --add it lists them and says what --add would do. Everything shown came from the
      LAN: control characters in it are shown escaped (as \\x1b).

      --add gives each Raspberry Pi the next free name (nodeNN) and address and appends it to the
      cluster file, touching nothing else; the result is validated first, and on any error
      nothing changes. Other machines are left out unless --any is given. A board added never
      becomes a swarm manager unless --allow-managers is given (with swarm.managers unset the
      first three nodes manage the swarm: name the managers in the cluster file instead).

      Examples:
        piswarm discover
        piswarm discover --add && piswarm netboot apply
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Append the Raspberry Pi boards found to the cluster file.")
  var add = false

  @Flag(help: "With --add: also add machines that are not Raspberry Pi boards.")
  var any = false

  @Flag(help: "With --add: let added boards become swarm managers (when swarm.managers picks them).")
  var allowManagers = false

  @Flag(help: "Print JSON on stdout.")
  var json = false

  struct Added: Codable {
    var name: String
    var ip: String
    var mac: String?
    var serial: String?
  }

  struct Output: Codable {
    var found: [Sighting]
    var added: [Added]
    /// MACs of the machines --add leaves out (not Raspberry Pi boards; no --any).
    var leftOut: [String]
  }

  func validate() throws {
    if any && !add { throw ValidationError("--any only matters with --add") }
    if allowManagers && !add { throw ValidationError("--allow-managers only matters with --add") }
  }

  func run() throws {
    try reporting {
      let loaded = try global.loadCluster(printWarnings: false)
      let found = Discovery.sightings(try BootEventsReader.all(stateDirectory: global.stateDirectory), cluster: loaded.cluster)
      var added: [Added] = []
      var leftOut: [Sighting] = []
      if add && !found.isEmpty {
        added = try global.mutating(commandLine) { _ throws(PiSwarmError) in
          // Again under the lock: the file may have changed.
          let loaded = try global.loadCluster(printWarnings: false, checkAccess: false)
          let fresh = Discovery.sightings(
            try BootEventsReader.all(stateDirectory: global.stateDirectory), cluster: loaded.cluster)
          let plan = try Discovery.plan(for: fresh, in: loaded.cluster, any: any)
          leftOut = plan.leftOut
          guard !plan.adds.isEmpty else { return [] }
          var text = loaded.text
          for add in plan.adds { text = try ClusterFileEditor.adding(add.spec, to: text) }
          try NodeEdit.checkResult(text, path: loaded.path, before: loaded.diagnostics, what: "adding the discovered nodes")
          if !allowManagers, let after = ClusterFile.decode(text: text).cluster {
            try Discovery.checkNoNewManagers(plan.adds.map(\.spec.name), after: after)
          }
          try AtomicFile.write(text, to: loaded.path)
          return plan.adds.map {
            Added(name: $0.spec.name, ip: $0.spec.ip.description, mac: $0.spec.mac?.description, serial: $0.spec.serial)
          }
        }
      } else if !add {
        leftOut = found.filter { !$0.isPi }
      }
      if json {
        Console.out(try Console.json(Output(found: found, added: added, leftOut: leftOut.map(\.mac))))
      } else if !found.isEmpty {
        Console.out(
          TextTable.render(
            header: ["MAC", "IP", "SERIAL", "PI", "VENDOR CLASS", "LAST SEEN"],
            rows: found.map {
              [
                $0.mac, $0.ip ?? "-", $0.serial ?? "-", $0.isPi ? "yes" : "no", $0.vendorClass ?? "-",
                ISO8601DateFormatter().string(from: $0.lastSeen),
              ]
            }))
        for node in added { Console.out("added \(node.name) (\(node.ip)) to \(loaded.path)\n") }
      }
      if found.isEmpty { Console.err("no unknown machine asked to netboot") }
      if !add, !found.isEmpty, let plan = try? Discovery.plan(for: found, in: loaded.cluster, any: false) {
        for entry in plan.adds { Console.err("--add would add \(Discovery.describe(entry.spec, entry.sighting))") }
      }
      for sighting in leftOut { Console.err("not adding \(Discovery.leftOutReason(sighting))") }
    }
  }
}
