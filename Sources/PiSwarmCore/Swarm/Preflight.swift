/// Checks on a node before anything changes on it: what Docker and the swarm need. One remote
/// script prints KEY=VALUE lines; the evaluation is pure.
public enum Preflight {
  public struct Finding: Sendable, Codable, Equatable {
    public enum Severity: String, Sendable, Codable { case error, warning }
    public var node: String
    public var check: String
    public var severity: Severity
    public var message: String

    public init(node: String, check: String, severity: Severity, message: String) {
      self.node = node
      self.check = check
      self.severity = severity
      self.message = message
    }
  }

  public static let keys = [
    "arch", "vxlan", "ipvs", "memory_cgroup", "time", "docker", "apt", "data_root", "data_root_fs", "data_root_free_kb",
    "base_free_kb",
  ]

  /// Reads everything in one round trip (Scripts/preflight.sh), with its parameters.
  public static let script = RemoteScript.preflight
  public static let environment: [(name: String, value: String)] = [("BASE", DockerStorageLayout.base)]

  /// The findings for one node. `clockOffset` is the node's clock minus the head's, in seconds
  /// (nil when unknown).
  public static func evaluate(_ facts: [String: String], node: Node, clockOffset: Double?) -> [Finding] {
    var findings: [Finding] = []
    func add(_ check: String, _ severity: Finding.Severity, _ message: String) {
      findings.append(Finding(node: node.name, check: check, severity: severity, message: message))
    }
    switch facts["arch"] {
    case "aarch64", "arm64", "x86_64", "amd64": break
    case let arch?:
      add(
        "arch", .error,
        "\(arch) is a 32-bit system: Docker 28 was the last release for 32-bit Raspberry Pi OS; install a 64-bit (arm64) OS")
    case nil: add("arch", .error, "the architecture could not be read")
    }
    if facts["vxlan"] != "yes" {
      add("kernel", .error, "no vxlan kernel module: swarm overlay networks cannot work; use a kernel with CONFIG_VXLAN")
    }
    if facts["ipvs"] != "yes" {
      add(
        "kernel", .warning,
        "no ip_vs kernel module: no routing mesh or VIP load balancing; publish ports with mode=host and use --endpoint-mode dnsrr"
      )
    }
    if facts["memory_cgroup"] != "yes" {
      let fix =
        node.model.map { $0 != .other } ?? true
        ? "add cgroup_enable=memory cgroup_memory=1 to cmdline.txt (for netbooted nodes piswarm writes it) and reboot"
        : "enable the memory cgroup on the kernel command line and reboot"
      add("cgroup", .error, "the memory cgroup is off: Docker cannot limit containers' memory; \(fix)")
    }
    if let offset = clockOffset {
      let size = abs(offset)
      let text = size < 10 ? String(Double(Int(size * 10)) / 10) : String(Int(size))
      if size > 60 {
        add(
          "clock", .error,
          "the clock is \(text) s off the head's: swarm joins fail with x509 \"not yet valid\"; start time sync (systemd-timesyncd, chrony) and run again"
        )
      } else if size > 2 {
        add("clock", .warning, "the clock is \(text) s off the head's; Pis have no real-time clock: run time sync before Docker")
      }
    }
    if facts["docker"] != "yes" {
      if facts["apt"] == "yes" {
        add("docker", .warning, "Docker is not installed: 'piswarm up' installs docker.io with apt-get")
      } else {
        add(
          "docker", .error,
          "Docker is not installed and the node has no apt-get: install Docker Engine with its distribution's package")
      }
    }
    let filesystem = facts["data_root_fs"] ?? ""
    let root = facts["data_root"] ?? "/var/lib/docker"
    if case .root = node.dockerStorage, filesystem.hasPrefix("nfs") {
      add(
        "storage", .error,
        "Docker's data root \(root) is on NFS, where overlay2 cannot run; use docker_storage: loopfile:16G (or device:/dev/…)")
    }
    switch node.dockerStorage {
    case .root:
      if let free = facts["data_root_free_kb"].flatMap({ UInt64($0) }) {
        // A card whose root was never grown to fill it (Raspberry Pi OS grows it at first boot).
        let card =
          node.boot == .sd
          ? "; its root is on its card: grow the root partition to the card's end (raspi-config nonint do_expand_rootfs, or parted resizepart and resize2fs)"
          : ""
        if free < 512 << 10 {
          add("storage", .error, "only \(free / 1024) MiB free under \(root): Docker needs room for images" + card)
        } else if free < 2 << 20 {
          add("storage", .warning, "only \(free / 1024) MiB free under \(root): Docker's images may fill it" + card)
        }
      }
    case .loopfile(let size):
      // The image file is sparse: it takes room as Docker fills it.
      if let free = facts["base_free_kb"].flatMap({ UInt64($0) }) {
        let base = DockerStorageLayout.base
        if free < 512 << 10 {
          add("storage", .error, "only \(free / 1024) MiB free for the loopfile under \(base): Docker needs room for images")
        } else if free < size.bytes / 1024 {
          add(
            "storage", .warning,
            "\(free / 1024) MiB free under \(base), less than the loopfile's \(size): it fails once Docker fills the free space")
        }
      }
    case .device, .tmpfs:
      break  // their own size, set in cluster.yml
    }
    return findings
  }

  public static func parse(_ output: String) -> [String: String] { KeyValueLines.parse(output, keys: keys) }
}
