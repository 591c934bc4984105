import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmRegistry

struct RegistryGC: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    abstract: "Delete the private registry's unreferenced layers and untagged manifests.",
    discussion: """
      Stops the private registry (no push may run while it collects), runs docker-registry
      garbage-collect --delete-untagged, and starts it again, also when the collection failed.
      The cache is not collected: it expires what it holds on its own. Takes the state lock.

      Examples:
        piswarm registry gc
        piswarm registry gc --dry-run     # what would go; the registry keeps running
        piswarm registry gc --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Only say what would be deleted.")
  var dryRun = false

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let cluster = try global.loadCluster(printWarnings: false).cluster
      let registry = HeadRegistry(cluster: cluster, stateDirectory: global.stateDirectory)
      let result = try global.mutating(commandLine) { _ throws(PiSwarmError) in
        try registry.collectGarbage(dryRun: dryRun) { Console.err($0) }
      }
      Console.out(json ? try Console.json(result) + "\n" : RegistryReport.text(result))
    }
  }
}
