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
      class (PXEClient:Arch:00000:UNDI:002001) or its MAC prefix; a Pi 4/5 that asked for its
      serial folder also shows the serial. Run 'piswarm netboot apply' first, then power the
      boards on.

      --add gives each one the next free name (nodeNN) and address and appends it to the cluster
      file, touching nothing else; the result is validated first, and on any error nothing changes.

      Examples:
        piswarm discover
        piswarm discover --add && piswarm netboot apply
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Append the machines found to the cluster file.")
  var add = false

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
  }

  func run() throws {
    try reporting {
      let loaded = try global.loadCluster(printWarnings: false)
      let found = Discovery.sightings(try BootEventsReader.all(stateDirectory: global.stateDirectory), cluster: loaded.cluster)
      var added: [Added] = []
      if add && !found.isEmpty {
        added = try global.mutating(commandLine) { _ throws(PiSwarmError) in
          // Again under the lock: the file may have changed.
          let loaded = try global.loadCluster(printWarnings: false)
          let fresh = Discovery.sightings(
            try BootEventsReader.all(stateDirectory: global.stateDirectory), cluster: loaded.cluster)
          let specs = try Discovery.specs(for: fresh, in: loaded.cluster)
          var text = loaded.text
          for spec in specs { text = try ClusterFileEditor.adding(spec, to: text) }
          try NodeEdit.checkResult(text, path: loaded.path, before: loaded.diagnostics, what: "adding the discovered nodes")
          try AtomicFile.write(text, to: loaded.path)
          return specs.map { Added(name: $0.name, ip: $0.ip.description, mac: $0.mac?.description, serial: $0.serial) }
        }
      }
      if json {
        Console.out(try Console.json(Output(found: found, added: added)))
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
    }
  }
}
