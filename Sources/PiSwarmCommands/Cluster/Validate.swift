import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check the cluster file and report every problem at once.",
    discussion: """
      Each problem is printed as FILE:LINE:COLUMN: error: MESSAGE (or warning:), naming the value
      and what to do. Exits 64 when there is any error. Writes nothing.

      Examples:
        piswarm validate
        piswarm validate --file lab/cluster.yml --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print the result as JSON on stdout.")
  var json = false

  struct Report: Encodable {
    struct Item: Encodable {
      var severity: String
      var line: Int
      var column: Int
      var message: String
    }
    var file: String
    var valid: Bool
    var nodes: Int
    var managers: Int
    var diagnostics: [Item]
  }

  func run() throws {
    try reporting {
      let path = global.clusterFile
      let bytes: Data
      do { bytes = try Files.read(path) } catch let error as PiSwarmError where error.code == .notFound {
        throw PiSwarmError(.invalidInput, "no cluster file at \(path)", advice: "run 'piswarm init' to write one, or give --file")
      }
      let decoded = ClusterFile.decode(bytes: bytes)
      global.warnAboutClusterFileAccess(path)
      if let cluster = decoded.cluster, let exposure = LANExposure.warning(cluster) {
        Console.err("\(path): warning: \(exposure)")
      }
      if json {
        let report = Report(
          file: path, valid: decoded.cluster != nil, nodes: decoded.cluster?.nodes.count ?? 0,
          managers: decoded.cluster?.managers.count ?? 0,
          diagnostics: decoded.diagnostics.map {
            .init(severity: $0.severity.rawValue, line: $0.location.line, column: $0.location.column, message: $0.message)
          })
        Console.out(try Console.json(report))
      } else {
        for diagnostic in decoded.diagnostics { Console.err(diagnostic.formatted(file: path)) }
      }
      guard let cluster = decoded.cluster else {
        if !json {
          let count = decoded.diagnostics.errors.count
          Console.err("\(path): \(count) error\(count == 1 ? "" : "s"), \(decoded.diagnostics.warnings.count) warning(s)")
        }
        throw Exit.usage
      }
      if !json {
        let warnings = decoded.diagnostics.warnings.count
        Console.out(
          "\(path): ok: cluster \(cluster.name), \(cluster.nodes.count) node\(cluster.nodes.count == 1 ? "" : "s") "
            + "(\(cluster.managers.count) manager\(cluster.managers.count == 1 ? "" : "s"), \(cluster.workers.count) worker\(cluster.workers.count == 1 ? "" : "s"))"
            + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "") + "\n")
      }
    }
  }
}
