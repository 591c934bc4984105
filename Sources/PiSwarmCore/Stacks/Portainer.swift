/// The built-in `portainer` stack: Portainer's own agent stack, rendered. Pure.
///
/// The agent runs on every node (global) and listens on 9001 on the stack's overlay network;
/// the server runs once, on the manager that carries `placementLabel` (so its `/data` volume,
/// a local volume, stays where it was made), reaches the agents as `tasks.agent:9001`, and
/// publishes 9443 (HTTPS) and 8000 (edge tunnel) on that node (`mode: host`: no routing mesh
/// needed). The admin password comes from piswarm's secrets as a swarm secret, read by the
/// server with `--admin-password-file` (Portainer uses it when it initializes; later changes
/// are made in Portainer).
public enum Portainer {
  public static let stackName = "portainer"
  /// Pinned: the stack changes only when piswarm does. 2.21 is a long-term-support release.
  public static let version = "2.21.5"
  public static let agentImage = "portainer/agent:\(version)"
  public static let serverImage = "portainer/portainer-ce:\(version)"
  /// The node label that says where the server (and its data) lives.
  public static let placementLabel = "io.piswarm.portainer"
  /// The name of the admin password in piswarm's secrets.
  public static let secretName = "portainer-admin"
  /// Where the server reads the password inside its container.
  public static let passwordTarget = "portainer_admin_password"

  /// The stack's compose file. `passwordFile` is the 0600 file on the head the docker CLI reads
  /// the password from while it deploys; `secretVersion` (a short digest) names the swarm secret,
  /// which swarm cannot change in place: a new password is a new secret.
  public static func compose(passwordFile: String, secretVersion: String) -> String {
    """
    # Written by piswarm: the built-in portainer stack (Portainer's agent stack, pinned to
    # \(version)). 'piswarm stack deploy portainer' renders it again; do not edit.
    version: "3.8"
    services:
      agent:
        image: \(agentImage)
        environment:
          AGENT_CLUSTER_ADDR: tasks.agent
          AGENT_PORT: "9001"
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
          - /var/lib/docker/volumes:/var/lib/docker/volumes
        networks:
          - agent_network
        deploy:
          mode: global
          placement:
            constraints:
              - node.platform.os == linux
      server:
        image: \(serverImage)
        command: -H tcp://tasks.agent:9001 --tlsskipverify --admin-password-file /run/secrets/\(passwordTarget)
        ports:
          - target: 9443
            published: 9443
            protocol: tcp
            mode: host
          - target: 8000
            published: 8000
            protocol: tcp
            mode: host
        volumes:
          - data:/data
        networks:
          - agent_network
        secrets:
          - source: admin_password
            target: \(passwordTarget)
            mode: 0400
        deploy:
          mode: replicated
          replicas: 1
          placement:
            constraints:
              - node.role == manager
              - node.labels.\(placementLabel) == true
    networks:
      agent_network:
        driver: overlay
        attachable: true
    volumes:
      data:
    secrets:
      admin_password:
        name: portainer_admin_password_\(secretVersion)
        file: \(YAMLText.quoted(passwordFile))

    """
  }

  /// The manager the server goes on: the one that carries the label already (its data is
  /// there), else `chosen`, else the first manager.
  public static func serverNode(labelled: [String], chosen: String?, managers: [String]) -> String? {
    if let chosen { return chosen }
    if let first = managers.first(where: { labelled.contains($0) }) { return first }
    return managers.first
  }
}
