import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem

/// A decoded cluster file and its text, for commands that read or edit it.
struct LoadedCluster {
  var path: String
  var text: String
  var bytes: Data
  var cluster: Cluster
  var diagnostics: [Diagnostic]
}
