import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Where the cluster file and the state directory are, shared by every command.
public struct GlobalOptions: ParsableArguments {
  @Option(
    name: [.customShort("f"), .long],
    help: ArgumentHelp("The cluster file.", discussion: "Default: $PISWARM_FILE, else ./cluster.yml."))
  public var file: String?

  @Option(
    name: .long,
    help: ArgumentHelp("piswarm's state directory.", discussion: "Default: $PISWARM_STATE_DIR, else /var/lib/piswarm."))
  public var stateDir: String?

  public init() {}

  public static let defaultStateDirectory = "/var/lib/piswarm"

  var environment: [String: String] { ProcessInfo.processInfo.environment }

  /// The cluster file path: --file, else PISWARM_FILE, else ./cluster.yml.
  public var clusterFile: String {
    if let file, !file.isEmpty { return file }
    if let file = environment["PISWARM_FILE"], !file.isEmpty { return file }
    return ClusterFile.defaultPath
  }

  /// The cluster file's folder: the paths in its stacks: are relative to it.
  var clusterFolder: String { URL(fileURLWithPath: Files.absolute(clusterFile)).deletingLastPathComponent().path }

  /// The state directory: --state-dir, else PISWARM_STATE_DIR, else /var/lib/piswarm.
  public var stateDirectory: String {
    if let stateDir, !stateDir.isEmpty { return stateDir }
    if let dir = environment["PISWARM_STATE_DIR"], !dir.isEmpty { return dir }
    return Self.defaultStateDirectory
  }

  /// The SSH key piswarm init makes when ssh.key is not set.
  public var defaultKey: String { Files.absolute(stateDirectory) + "/ssh/id_ed25519" }
}
