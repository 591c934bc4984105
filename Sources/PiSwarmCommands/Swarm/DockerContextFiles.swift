import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem

/// Writes (and removes) the docker context of a cluster and its SSH host alias.
enum DockerContextFiles {
  /// `$DOCKER_CONFIG`, else `~/.docker`.
  static var dockerConfig: String {
    let environment = ProcessInfo.processInfo.environment
    if let config = environment["DOCKER_CONFIG"], !config.isEmpty { return config }
    return (environment["HOME"] ?? "/root") + "/.docker"
  }

  static func metaPath(_ cluster: String) -> String {
    "\(dockerConfig)/contexts/meta/\(DockerContext.metaDirectory(cluster))/meta.json"
  }

  /// Points the context at `manager`. Returns whether a file changed.
  @discardableResult
  static func write(cluster: Cluster, manager: Node, transport: SSHTransport) throws(PiSwarmError) -> Bool {
    for path in [transport.key, transport.knownHosts] where path.contains("\"") || path.contains("\n") {
      throw PiSwarmError(
        .invalidInput, "the path \(path) cannot go into an SSH configuration (it holds a quote or a line break)",
        advice: "move the file to a plain path and set ssh.key in cluster.yml")
    }
    let meta = metaPath(cluster.name)
    try Files.makeDirectory((meta as NSString).deletingLastPathComponent, mode: 0o755)
    let wroteMeta = try AtomicFile.write(DockerContext.meta(cluster: cluster.name, manager: manager.name), to: meta)
    try Files.makeDirectory(DockerContext.sshConfigDirectory, mode: 0o755)
    let wroteConfig = try AtomicFile.write(
      DockerContext.sshConfig(
        cluster: cluster.name, manager: manager, user: transport.user, key: transport.key, knownHosts: transport.knownHosts),
      to: DockerContext.sshConfigPath(cluster.name))
    return wroteMeta || wroteConfig
  }

  /// Removes the context and its alias, when piswarm wrote them.
  static func remove(cluster: String) {
    let meta = metaPath(cluster)
    if let text = try? String(contentsOfFile: meta, encoding: .utf8), text.contains("piswarm cluster \(cluster)") {
      try? FileManager.default.removeItem(atPath: (meta as NSString).deletingLastPathComponent)
    }
    let config = DockerContext.sshConfigPath(cluster)
    if let text = try? String(contentsOfFile: config, encoding: .utf8), text.hasPrefix("# Written by piswarm") {
      try? FileManager.default.removeItem(atPath: config)
    }
  }
}
