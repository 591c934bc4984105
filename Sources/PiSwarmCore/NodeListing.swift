/// `piswarm node ls`: one row per node, as a table or as JSON.
public enum NodeListing {
  public struct Entry: Codable, Sendable, Equatable {
    public var name: String
    public var ip: String
    public var mac: String?
    public var serial: String?
    public var model: String?
    public var boot: String
    public var dockerStorage: String
    public var role: String
    public var power: String
    public var labels: [String: String]
    public var range: String?

    enum CodingKeys: String, CodingKey {
      case name, ip, mac, serial, model, boot, role, power, labels, range
      case dockerStorage = "docker_storage"
    }
  }

  public static func entries(_ cluster: Cluster) -> [Entry] {
    cluster.nodes.map { node in
      Entry(
        name: node.name, ip: node.ip.description, mac: node.mac?.description, serial: node.serial,
        model: node.model?.rawValue, boot: node.boot.rawValue, dockerStorage: node.dockerStorage.description,
        role: node.role.rawValue, power: node.power.driver, labels: cluster.swarm.labels.merging(node.labels) { $1 },
        range: node.range)
    }
  }

  public static func table(_ cluster: Cluster) -> String {
    let header = ["NAME", "IP", "MAC", "SERIAL", "MODEL", "BOOT", "STORAGE", "ROLE", "LABELS"]
    let rows = entries(cluster).map { entry in
      [
        entry.name, entry.ip, entry.mac ?? "-", entry.serial ?? "-", entry.model ?? "-", entry.boot,
        entry.dockerStorage, entry.role,
        entry.labels.isEmpty
          ? "-" : entry.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
      ]
    }
    return TextTable.render(header: header, rows: rows)
  }
}
