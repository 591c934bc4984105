import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmRegistry

struct RegistryStatus: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Whether the head's cache and private registry run, answer over TLS, and how much disk they use.",
    discussion: """
      Asks each instance for /v2/ over HTTPS, trusting only the cluster CA (as the nodes do).
      Exit 1 when one does not answer.

      Examples:
        piswarm registry status
        piswarm registry status --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func run() throws {
    try reporting {
      let cluster = try global.loadCluster(printWarnings: false).cluster
      guard cluster.registry.enabled else {
        throw PiSwarmError(
          .invalidInput, "the head's registry is off in \(global.clusterFile)",
          advice: "add registry: true (or a registry: section) and run 'piswarm up'")
      }
      let status = HeadRegistry(cluster: cluster, stateDirectory: global.stateDirectory).status()
      Console.out(json ? try Console.json(status) + "\n" : RegistryReport.table(status))
      if status.contains(where: { !$0.reachable }) { throw Exit.failure }
    }
  }

}
