import Crypto

/// A docker context named after the cluster, so the user's own docker CLI reaches the swarm
/// (`docker --context NAME node ls`), over SSH with piswarm's key and pinned host keys. Pure.
///
/// The context's endpoint is `ssh://piswarm-NAME`, an SSH host alias defined in
/// `/etc/ssh/ssh_config.d/piswarm-NAME.conf` (Debian's ssh_config includes that folder): the
/// manager's address, the user, piswarm's key, its known_hosts and strict checking.
public enum DockerContext {
  public static let sshConfigDirectory = "/etc/ssh/ssh_config.d"

  public static func alias(_ cluster: String) -> String { "piswarm-\(cluster)" }

  /// The context's folder under `DOCKER_CONFIG/contexts/meta/`: the SHA-256 of its name.
  public static func metaDirectory(_ name: String) -> String { SHA256.hex(Array(name.utf8)) }

  public static func sshConfigPath(_ cluster: String) -> String { "\(sshConfigDirectory)/\(alias(cluster)).conf" }

  /// The context's meta.json.
  public static func meta(cluster: String, manager: String) -> String {
    JSONValue.object([
      "Name": .string(cluster),
      "Metadata": .object(["Description": .string("piswarm cluster \(cluster), through manager \(manager)")]),
      "Endpoints": .object([
        "docker": .object(["Host": .string("ssh://\(alias(cluster))"), "SkipTLSVerify": .bool(false)])
      ]),
    ]).rendered()
  }

  /// The SSH host alias the context's endpoint names.
  public static func sshConfig(cluster: String, manager: Node, user: String, key: String, knownHosts: String) -> String {
    """
    # Written by piswarm for the docker context "\(cluster)": 'docker --context \(cluster) …' reaches
    # the swarm through manager \(manager.name). piswarm rewrites this file; edit cluster.yml instead.
    Host \(alias(cluster))
      HostName \(manager.ip)
      User \(user)
      IdentityFile "\(key)"
      IdentitiesOnly yes
      UserKnownHostsFile "\(knownHosts)"
      StrictHostKeyChecking yes
      BatchMode yes
      ControlMaster no

    """
  }
}
