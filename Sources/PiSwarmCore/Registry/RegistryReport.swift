/// One instance as `piswarm registry status` shows it.
public struct RegistryInstanceStatus: Sendable, Codable, Equatable {
  public var role: RegistryRole
  /// `HOST:PORT`.
  public var address: String
  /// `running` or `stopped` (systemd: active or not; else the supervised PID).
  public var service: String
  /// It answered `/v2/` with 200 over TLS verified by the cluster CA.
  public var reachable: Bool
  /// `verified` (by the cluster CA), or curl's error.
  public var tls: String
  /// When the server certificate expires (openssl's words).
  public var certificateExpires: String?
  /// Bytes under its data folder, when it could be measured.
  public var diskUsed: Int64?
  public var data: String
  /// What the cache mirrors.
  public var upstream: String?

  public init(
    role: RegistryRole, address: String, service: String, reachable: Bool, tls: String, certificateExpires: String? = nil,
    diskUsed: Int64? = nil, data: String, upstream: String? = nil
  ) {
    self.role = role
    self.address = address
    self.service = service
    self.reachable = reachable
    self.tls = tls
    self.certificateExpires = certificateExpires
    self.diskUsed = diskUsed
    self.data = data
    self.upstream = upstream
  }
}

/// What `piswarm registry gc` did.
public struct RegistryCollection: Sendable, Codable, Equatable {
  public var dryRun: Bool
  public var diskBefore: Int64?
  public var diskAfter: Int64?
  /// docker-registry's summary line (`N blobs marked, M blobs and K manifests eligible for deletion`).
  public var summary: String

  public init(dryRun: Bool, diskBefore: Int64?, diskAfter: Int64?, summary: String) {
    self.dryRun = dryRun
    self.diskBefore = diskBefore
    self.diskAfter = diskAfter
    self.summary = summary
  }
}

/// `piswarm registry status` and `gc` as text. Pure.
public enum RegistryReport {
  public static func table(_ status: [RegistryInstanceStatus]) -> String {
    TextTable.render(
      header: ["REGISTRY", "ADDRESS", "SERVICE", "REACHABLE", "TLS", "DISK"],
      rows: status.map { entry in
        [
          entry.role.rawValue, entry.address, entry.service, entry.reachable ? "yes" : "no", entry.tls,
          entry.diskUsed.map(size) ?? "-",
        ]
      })
  }

  public static func text(_ collection: RegistryCollection) -> String {
    let disk = "disk: \(collection.diskBefore.map(size) ?? "-") before, \(collection.diskAfter.map(size) ?? "-") after"
    return "\(collection.summary)\n\(collection.dryRun ? "dry run: nothing was deleted" : disk)\n"
  }

  /// Bytes for people: `512B`, `4.0K`, `1.1M`, `2.5G` (powers of 1024).
  public static func size(_ bytes: Int64) -> String {
    var value = Double(max(0, bytes))
    guard value >= 1024 else { return "\(max(0, bytes))B" }
    for unit in ["K", "M", "G", "T"] {
      value /= 1024
      if value < 1024 || unit == "T" {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)\(unit)"
      }
    }
    return "\(bytes)B"
  }
}
