import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The image store lives in the state directory (0700), which dnsmasq, serving as an unprivileged
/// user, cannot enter. So an image's firmware is published beside the TFTP root, in
/// `dirname(tftp_root)/firmware/IMAGE/`, world-readable: hard links to the store's files when
/// both are on one filesystem (no space, no copy), else copies. Node folders link there.
public enum FirmwarePublisher {
  /// Where the images' firmware is published for a TFTP root.
  public static func root(forTFTPRoot tftpRoot: String) -> String {
    let parent = URL(fileURLWithPath: tftpRoot).deletingLastPathComponent().path
    return (parent == "/" ? "" : parent) + "/firmware"
  }

  /// Makes `destination` a world-readable mirror of `source` (recursively); removes what
  /// `source` no longer has. Unchanged files (the same inode, or the same size and modification
  /// time) are left alone.
  /// `dryRun`: writes nothing and returns the changes it would make.
  public static func publish(
    from source: String, to destination: String, dryRun: Bool = false
  ) throws(PiSwarmError)
    -> [FileChange]
  {
    var changes: [FileChange] = []
    try mirror(source, destination, dryRun: dryRun, &changes)
    if dryRun { return changes }
    try AtomicFile.write("published by piswarm from \(source)\n", to: destination + "/" + marker, mode: 0o644)
    return changes
  }

  /// Marks a folder piswarm published (hidden: never linked into node folders).
  static let marker = ".piswarm-published"

  /// Removes published images that are not in `keep`: only folders piswarm published (marked).
  public static func prune(root: String, keep: Set<String>, dryRun: Bool = false) throws(PiSwarmError) -> [FileChange] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
    var changes: [FileChange] = []
    for name in names.sorted() where !keep.contains(name) && Files.exists(root + "/" + name + "/" + marker) {
      if !dryRun { try BootTreeApplier.removeAny(root + "/" + name) }
      changes.append(FileChange(root + "/" + name, .removed))
    }
    return changes
  }

  static func mirror(
    _ source: String, _ destination: String, dryRun: Bool, _ changes: inout [FileChange]
  ) throws(PiSwarmError) {
    if !BootTreeApplier.isDirectory(destination) {
      if !dryRun {
        try BootTreeApplier.removeAny(destination)
        try Files.makeDirectory(destination, mode: 0o755)
      }
      changes.append(FileChange(destination, .created))
    } else if !dryRun {
      chmod(destination, 0o755)
    }
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: source) } catch {
      throw PiSwarmError(.system, "cannot list the firmware folder \(source)", cause: error.localizedDescription)
    }
    for name in names.sorted() where !name.hasPrefix(".") {
      let from = source + "/" + name
      let to = destination + "/" + name
      var info = stat()
      guard stat(from, &info) == 0 else { continue }
      if (info.st_mode & S_IFMT) == S_IFDIR {
        try mirror(from, to, dryRun: dryRun, &changes)
        continue
      }
      guard (info.st_mode & S_IFMT) == S_IFREG else { continue }
      var existing = stat()
      let present = lstat(to, &existing) == 0 && (existing.st_mode & S_IFMT) == S_IFREG
      if present
        && ((existing.st_ino == info.st_ino && existing.st_dev == info.st_dev)
          || (existing.st_size == info.st_size && existing.st_mtim.tv_sec == info.st_mtim.tv_sec))
      {
        if existing.st_mode & 0o004 == 0, !dryRun { chmod(to, 0o644) }
        continue
      }
      if !dryRun { try place(from, to, info) }
      changes.append(FileChange(to, present ? .updated : .created))
    }
    for name in (try? FileManager.default.contentsOfDirectory(atPath: destination)) ?? []
    where !names.contains(name) && name != marker {
      if !dryRun { try BootTreeApplier.removeAny(destination + "/" + name) }
      changes.append(FileChange(destination + "/" + name, .removed))
    }
  }

  /// A hard link, else a copy, put in place by rename; readable by others.
  static func place(_ from: String, _ to: String, _ info: stat) throws(PiSwarmError) {
    let temporary =
      URL(fileURLWithPath: to).deletingLastPathComponent().path + "/.piswarm-\(getpid())-"
      + (to.split(separator: "/").last.map(String.init) ?? "f")
    unlink(temporary)
    if link(from, temporary) != 0 {
      do { try FileManager.default.copyItem(atPath: from, toPath: temporary) } catch {
        throw PiSwarmError(.system, "cannot copy \(from) to \(to)", cause: error.localizedDescription)
      }
      var times = [info.st_atim, info.st_mtim]
      utimensat(AT_FDCWD, temporary, &times, 0)
    }
    if info.st_mode & 0o004 == 0 || info.st_mode & 0o7777 != 0o644 { chmod(temporary, 0o644) }
    guard rename(temporary, to) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw PiSwarmError(.system, "cannot put \(to) in place: \(reason)")
    }
  }
}
