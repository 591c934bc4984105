import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A whole disk that `piswarm burn` may write: what sysfs says about it, and the checks that
/// keep piswarm off disks it must never touch.
public struct CardDevice: Sendable, Codable, Hashable {
  public var path: String
  /// The kernel's name (`sdb`, `mmcblk0`, `loop7`).
  public var name: String
  public var size: UInt64
  public var model: String
  public var serial: String
  public var removable: Bool
  public var usb: Bool
  public var loop: Bool

  /// Reads the device's facts; refuses what is not a whole block device.
  public static func inspect(_ path: String) throws(PiSwarmError) -> CardDevice {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw PiSwarmError(
        .notFound, "no device \(path): \(String(cString: strerror(errno)))",
        advice: "list disks with 'lsblk -d -o NAME,SIZE,MODEL,TRAN,RM'")
    }
    guard info.st_mode & S_IFMT == S_IFBLK else {
      throw PiSwarmError(.invalidInput, "\(path) is not a block device", advice: "name a whole disk such as /dev/sdb")
    }
    let sys = try sysfs(major: Self.major(info.st_rdev), minor: Self.minor(info.st_rdev), for: path)
    let name = URL(fileURLWithPath: sys).lastPathComponent
    if Files.exists(sys + "/partition") {
      let disk = URL(fileURLWithPath: sys).deletingLastPathComponent().lastPathComponent
      throw PiSwarmError(.invalidInput, "\(path) is a partition of \(disk)", advice: "name the whole disk: /dev/\(disk)")
    }
    let loop = name.hasPrefix("loop")
    let sectors = UInt64(text(sys + "/size")) ?? 0
    var model = [text(sys + "/device/vendor"), text(sys + "/device/model")].filter { !$0.isEmpty }.joined(separator: " ")
    if loop {
      model = "loop device on " + (text(sys + "/loop/backing_file").isEmpty ? "nothing" : text(sys + "/loop/backing_file"))
    }
    return CardDevice(
      path: path, name: name, size: sectors * 512, model: model.isEmpty ? "unknown model" : model,
      serial: serial(sys), removable: text(sys + "/removable") == "1" || name.hasPrefix("mmcblk"),
      usb: sys.contains("/usb"), loop: loop)
  }

  /// Why piswarm must not write this device, or nil. `force` allows disks that are neither
  /// removable nor on USB (and loop devices); nothing allows a mounted disk or the head's own.
  public func refusal(force: Bool, headPaths: [String]) -> PiSwarmError? {
    let held = headPaths.filter { Self.disks(holding: [$0]).contains(name) }
    if !held.isEmpty {
      return PiSwarmError(
        .invalidInput, "\(path) is the disk the head runs from (it holds \(held.joined(separator: ", ")))",
        advice: "name the card's device: compare 'lsblk -d -o NAME,SIZE,MODEL,TRAN,RM' before and after plugging it in")
    }
    let mine = Set([name] + Self.partitions(of: name))
    let numbers = Set(mine.map { Self.text("/sys/class/block/\($0)/dev") })
    let mounted = Self.mountedDevices()
    if let hit = mounted.first(where: { numbers.contains($0.number) }) {
      return PiSwarmError(
        .invalidInput, "\(path) is mounted (\(hit.source) on \(hit.point))",
        advice: "unmount it first ('umount \(hit.point)'), and check that it is the card you mean")
    }
    let holders = mine.flatMap { Self.list("/sys/class/block/\($0)/holders") }
    if let holder = holders.first {
      return PiSwarmError(
        .invalidInput, "\(path) is in use by \(holder)", advice: "stop what uses it (dmsetup, mdadm, losetup) first")
    }
    let swaps = (Files.readWhole("/proc/swaps") ?? "").split(separator: "\n").dropFirst().compactMap {
      $0.split(separator: " ").first
    }
    if let swap = swaps.first(where: { mine.contains(URL(fileURLWithPath: String($0)).lastPathComponent) }) {
      return PiSwarmError(.invalidInput, "\(path) holds swap (\(swap))", advice: "swapoff \(swap) first")
    }
    if !force && !(removable || usb) {
      return PiSwarmError(
        .invalidInput, "\(path) (\(model), \(ProgressLine.gibibytes(size))) is neither removable nor on USB",
        advice: "if it really is the card to write, add --force")
    }
    return nil
  }

  /// `sdb: Generic STORAGE DEVICE, 29.7 GiB, serial 000000001206`.
  public var summary: String { "\(path): \(model), \(ProgressLine.gibibytes(size)), serial \(serial)" }

  // MARK: sysfs and /proc

  /// glibc's major(3) and minor(3), macros Swift does not import.
  static func major(_ device: dev_t) -> UInt32 {
    let value = UInt64(device)
    let low: UInt64 = (value >> 8) & 0xfff
    let high: UInt64 = (value >> 32) & 0xffff_f000
    return UInt32(truncatingIfNeeded: low | high)
  }

  static func minor(_ device: dev_t) -> UInt32 {
    let value = UInt64(device)
    let low: UInt64 = value & 0xff
    let high: UInt64 = (value >> 12) & 0xffff_ff00
    return UInt32(truncatingIfNeeded: low | high)
  }

  static func sysfs(major: UInt32, minor: UInt32, for path: String) throws(PiSwarmError) -> String {
    let link = "/sys/dev/block/\(major):\(minor)"
    guard let resolved = realpath(link, nil) else {
      throw PiSwarmError(.notFound, "\(path) (\(major):\(minor)) has no \(link)", advice: "check that the device still exists")
    }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  static func text(_ path: String) -> String {
    (Files.readWhole(path) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
  }

  static func list(_ folder: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }

  /// The serial: the device's own (mmc), else the nearest USB device's above it.
  static func serial(_ sys: String) -> String {
    var folder = URL(fileURLWithPath: sys)
    for _ in 0..<12 {
      for file in ["serial", "device/serial"] where !text(folder.path + "/" + file).isEmpty {
        return text(folder.path + "/" + file)
      }
      folder.deleteLastPathComponent()
      if folder.path == "/sys/devices" || folder.path == "/" { break }
    }
    return "unknown"
  }

  static func partitions(of disk: String) -> [String] {
    list("/sys/class/block/\(disk)").filter { Files.exists("/sys/class/block/\(disk)/\($0)/partition") }
  }

  struct Mounted {
    var number: String
    var source: String
    var point: String
  }

  /// Every mount's device number (major:minor), source and mount point, from mountinfo.
  static func mountedDevices() -> [Mounted] {
    (Files.readWhole("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ")
      guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count else { return nil }
      return Mounted(number: String(fields[2]), source: String(fields[dash + 2]), point: String(fields[4]))
    }
  }

  /// The whole disks under `paths` (their filesystems' devices, through partitions and
  /// device-mapper/md slaves), by kernel name.
  static func disks(holding paths: [String]) -> Set<String> {
    var numbers: [String] = []
    let mounts = mountedDevices()
    for path in paths {
      var info = stat()
      if stat(path, &info) == 0 {
        numbers.append("\(Self.major(info.st_dev)):\(Self.minor(info.st_dev))")
      }
      // A filesystem with an anonymous device number (btrfs, overlay): its mount's source.
      if let mount = mounts.filter({ path == $0.point || path.hasPrefix($0.point == "/" ? "/" : $0.point + "/") })
        .max(by: { $0.point.count < $1.point.count }), mount.source.hasPrefix("/dev/"),
        stat(mount.source, &info) == 0, info.st_mode & S_IFMT == S_IFBLK
      {
        numbers.append("\(Self.major(info.st_rdev)):\(Self.minor(info.st_rdev))")
      }
    }
    var disks: Set<String> = []
    var queue = numbers.compactMap { number -> String? in
      guard let resolved = realpath("/sys/dev/block/\(number)", nil) else { return nil }
      defer { free(resolved) }
      return String(cString: resolved)
    }
    var seen: Set<String> = []
    while let sys = queue.popLast() {
      guard seen.insert(sys).inserted else { continue }
      let folder = Files.exists(sys + "/partition") ? URL(fileURLWithPath: sys).deletingLastPathComponent().path : sys
      let slaves = list(folder + "/slaves")
      if slaves.isEmpty {
        disks.insert(URL(fileURLWithPath: folder).lastPathComponent)
      } else {
        queue += slaves.compactMap { slave in
          guard let resolved = realpath("/sys/class/block/\(slave)", nil) else { return nil }
          defer { free(resolved) }
          return String(cString: resolved)
        }
      }
    }
    return disks
  }
}
