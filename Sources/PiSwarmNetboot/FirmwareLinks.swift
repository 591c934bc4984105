import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The firmware links of one `BootTreeApplier` run. A new inode (a symbolic link, a file) costs
/// 0.5–0.8 ms of kernel time on a churned ext4, a hard link 14 µs, and 1,000 nodes have 22,000
/// firmware entries, so: a target that is a regular file on the TFTP root's filesystem is
/// hard-linked; any other target (a folder such as `overlays`, another filesystem) gets one
/// symbolic link, by absolute path, which the other folders' entries hard-link (link(2) does not
/// follow a symbolic link, and an absolute one means the same in every folder). Each target is
/// looked up once a run.
struct FirmwareLinks {
  /// A link target as found when first needed.
  struct Target {
    var info: stat?
    /// A regular file on the TFTP root's filesystem: entries are hard links to it.
    var hardLinkable: Bool
  }

  /// The TFTP root's filesystem (nil: none yet, a dry run).
  let device: dev_t?
  private var targets: [String: Target] = [:]
  /// Per target, a symbolic link this run made, and how many paths it has.
  private var symlinks: [String: (path: String, paths: Int)] = [:]

  init(root: String) {
    var info = stat()
    device = stat(root, &info) == 0 ? info.st_dev : nil
  }

  mutating func target(_ path: String) -> Target {
    if let known = targets[path] { return known }
    var info = stat()
    let found =
      lstat(path, &info) == 0
      ? Target(info: info, hardLinkable: (info.st_mode & S_IFMT) == S_IFREG && info.st_dev == device)
      : Target(info: nil, hardLinkable: false)
    targets[path] = found
    return found
  }

  /// Whether the entry at `path` already is a link to `target`: a symbolic link to it (as older
  /// versions made every entry), or a hard link to the file it is now (`renewed`: the run
  /// replaces that file first, so none is).
  mutating func isCurrent(_ path: String, to target: String, renewed: Bool) -> Bool {
    var entry = stat()
    guard lstat(path, &entry) == 0 else { return false }
    switch entry.st_mode & S_IFMT {
    case S_IFLNK:
      return BootTreeApplier.linkTarget(path) == target
    case S_IFREG:
      guard !renewed, let info = self.target(target).info, (info.st_mode & S_IFMT) == S_IFREG else { return false }
      return entry.st_ino == info.st_ino && entry.st_dev == info.st_dev
    default:
      return false
    }
  }

  /// Makes `path` a link to `target`. Where something is there (`replacing`, or found by the
  /// direct call) the link is made beside it and renamed over it (a folder there is removed
  /// first): the path is never missing, and nothing is written through what was there.
  mutating func make(_ path: String, to target: String, replacing: Bool) throws(PiSwarmError) {
    let placed: Placed
    if !replacing, let direct = place(path, to: target) {
      placed = direct
    } else {
      let temporary = path + ".piswarm-\(getpid())"
      unlink(temporary)
      guard let beside = place(temporary, to: target) else {
        throw PiSwarmError(.system, "cannot make the link \(path) -> \(target): \(String(cString: strerror(errno)))")
      }
      if BootTreeApplier.isDirectory(path) { try BootTreeApplier.removeAny(path) }
      guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw PiSwarmError(.system, "cannot replace \(path): \(reason)")
      }
      placed = beside
    }
    if placed == .fresh { symlinks[target] = (path, 1) }
  }

  enum Placed { case hardLink, sharedSymlink, fresh }

  /// One link(2), or symlink(2) where that cannot be, at `path`, where nothing is; nil: neither.
  private mutating func place(_ path: String, to target: String) -> Placed? {
    if self.target(target).hardLinkable, link(target, path) == 0 { return .hardLink }
    if let shared = symlinks[target], shared.paths < AtomicBatch.pathsPerFile, link(shared.path, path) == 0 {
      symlinks[target]?.paths += 1
      return .sharedSymlink
    }
    return symlink(target, path) == 0 ? .fresh : nil
  }
}
