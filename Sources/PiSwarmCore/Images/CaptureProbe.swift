/// What Scripts/capture.sh (MODE=probe) says about the disk a node boots from, checked: the node
/// is not trusted, so the disk must be a plain `/dev/NAME` and the byte count fit the disk.
public struct CaptureProbe: Sendable, Equatable, Codable {
  /// The root filesystem's source (`/dev/mmcblk0p2`), as the node names it.
  public var root: String
  /// The whole disk under the root (`/dev/mmcblk0`).
  public var disk: String
  /// The disk's size, and what a capture copies: up to the end of its last partition.
  public var diskBytes: UInt64
  public var bytes: UInt64
  /// The disk's mounted filesystems, each once.
  public var mounts: [String]
  /// Whether the node has fsfreeze (util-linux).
  public var canFreeze: Bool

  public init(root: String, disk: String, diskBytes: UInt64, bytes: UInt64, mounts: [String], canFreeze: Bool) {
    self.root = root
    self.disk = disk
    self.diskBytes = diskBytes
    self.bytes = bytes
    self.mounts = mounts
    self.canFreeze = canFreeze
  }

  /// Reads the probe's `KEY=VALUE` lines; the failure says why, in words for the user.
  public static func parse(_ output: String, node: String) -> Result<CaptureProbe, PiSwarmError> {
    var values: [String: String] = [:]
    for line in output.split(separator: "\n") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    let root = (values["root"] ?? "").terminalSafe
    if let error = values["error"] {
      return .failure(
        PiSwarmError(
          .invalidInput, "\(node): \(error.terminalSafe)",
          advice:
            "capture copies the disk of nodes that boot from an SD card or USB disk (boot: sd); a node whose root is on the head's NFS is boot: netboot in cluster.yml, and capture then builds its card image from that root on the head"
        ))
    }
    guard let disk = values["disk"], isDiskPath(disk) else {
      return .failure(
        PiSwarmError(
          .system, "\(node) named no usable boot disk (disk=\((values["disk"] ?? "").terminalSafe))",
          advice: "check 'piswarm exec \(node) -- findmnt /' and 'lsblk' on the node"))
    }
    guard let diskBytes = values["disk_bytes"].flatMap(UInt64.init), let bytes = values["bytes"].flatMap(UInt64.init),
      bytes > 0, bytes <= diskBytes
    else {
      return .failure(
        PiSwarmError(
          .system,
          "\(node) gave no sensible size for \(disk) (disk_bytes=\((values["disk_bytes"] ?? "").terminalSafe), bytes=\((values["bytes"] ?? "").terminalSafe))",
          advice: "check 'lsblk -b \(disk)' on the node"))
    }
    let mounts = (values["mounts"] ?? "").split(separator: " ").map { String($0).terminalSafe }
    return .success(
      CaptureProbe(
        root: root, disk: disk, diskBytes: diskBytes, bytes: bytes, mounts: mounts, canFreeze: values["fsfreeze"] == "yes"))
  }

  /// `/dev/` and a kernel name of letters and digits (`sda`, `mmcblk0`, `nvme0n1`, `vda`).
  static func isDiskPath(_ path: String) -> Bool {
    guard path.hasPrefix("/dev/") else { return false }
    let name = path.dropFirst(5)
    return !name.isEmpty && name.count <= 32 && name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric }
  }

  /// What the user is told before the copy starts.
  public func warning(node: String, freeze: Bool) -> String {
    if freeze {
      return canFreeze
        ? "\(node): \(mounts.joined(separator: ", ")) held still during the copy (read-only remount, else fsfreeze); writes on the node wait until it ends"
        : "\(node): has no fsfreeze; file systems that cannot be remounted read-only are copied live (crash-consistent)"
    }
    return
      "\(node): warning: \(disk) is copied while its file systems are in use: the copy is crash-consistent (like a power cut), not clean; --freeze holds them still during the copy"
  }

  /// The name of a capture when none is given: `NODE-YYYYMMDD-HHMMSS` (UTC digits given).
  public static func defaultName(node: String, stamp: String) -> String { "\(node)-\(stamp)" }
}
