import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What a killed run leaves behind. piswarm makes every root, base and image mount under a
/// temporary name that ends in its PID and renames it into place when it is whole; Ctrl-C lets
/// the step under way finish, but SIGKILL or a power cut does not. The next run that makes
/// roots sweeps the temporary names whose process is gone: unmounted (lazily when busy) and
/// removed, so that nothing half-made stays mounted or fills the disk.
extension RootMaker {
  /// The prefixes of piswarm's temporary names (`PREFIX NAME-PID`).
  static let temporaryPrefixes = [".tmp-", ".mnt-", ".import-", ".remove-", ".reflink-probe-"]

  /// The PID in one of piswarm's temporary names, nil for any other name.
  static func temporaryOwner(_ name: String) -> pid_t? {
    guard temporaryPrefixes.contains(where: { name.hasPrefix($0) }),
      let dash = name.lastIndex(of: "-"), let pid = pid_t(name[name.index(after: dash)...]), pid > 0
    else { return nil }
    return pid
  }

  /// Removes what runs that are no longer alive left under temporary names; returns their paths.
  /// A name whose process lives (another run: the state lock makes that one this run) is left.
  @discardableResult
  public func sweepAbandoned() -> [String] {
    var swept: [String] = []
    for folder in [layout.nfsRoot, layout.nfsRoot + "/.base", layout.nfsRoot + "/.upper", images.directory] {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      for name in names.sorted() {
        guard let pid = Self.temporaryOwner(name), pid != getpid(), !Processes.isAlive(pid) else { continue }
        let path = folder + "/" + name
        if Filesystems.isMountPoint(path) { Self.unmount(path) }
        // Still mounted (a lazy unmount that has not finished): never remove through a mount.
        if Filesystems.isMountPoint(path) { continue }
        if (try? removeTree(path)) != nil { swept.append(path) }
      }
    }
    return swept
  }

  /// Unmounts `path`, tried again while it is busy, then lazily (it goes once its users do).
  static func unmount(_ path: String) {
    for attempt in 0..<5 {
      if (try? Command("umount", [path]).run().status) == 0 || !Filesystems.isMountPoint(path) { return }
      usleep(useconds_t(100_000 << attempt))
    }
    _ = try? Command("umount", ["-l", path]).run()
  }
}
