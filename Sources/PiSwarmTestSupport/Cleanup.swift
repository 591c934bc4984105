import Foundation
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Undoing what a test made, for sure: mounts (retried, then lazily detached when still busy),
/// loop devices, network namespaces and processes (by PID, never by name). Every step is
/// best-effort, so that one failure does not stop the rest.
public enum Cleanup {
  /// Unmounts `point`: a few tries (a process may still be leaving it), then `umount -l`, which
  /// detaches it at once and frees it when its last user goes. Returns whether it is gone.
  @discardableResult
  public static func unmount(_ point: String, tries: Int = 5) -> Bool {
    for attempt in 0..<tries {
      guard Mounts.points().contains(point) else { return true }
      if (try? Command("umount", [point], timeout: 30).run().status) == 0 { return true }
      usleep(useconds_t(100_000 * (attempt + 1)))
    }
    guard Mounts.points().contains(point) else { return true }
    _ = try? Command("umount", ["-l", point], timeout: 30).run()
    return !Mounts.points().contains(point)
  }

  /// Unmounts every mount at or below `folder`, the latest first (an overlay before its lower
  /// layer, what lies on a filesystem before the filesystem).
  public static func unmount(below folder: String) {
    for point in Mounts.points().reversed() where point == folder || point.hasPrefix(folder + "/") {
      unmount(point)
    }
  }

  /// Devices this process detached: the kernel may keep listing one (in rundown) until its
  /// last user lets go of it, e.g. a filesystem that was lazily unmounted somewhere.
  static let detached = Mutex(Set<String>())

  /// Detaches `device` (`/dev/loopN`), retried for up to `timeout` seconds while it is busy. A
  /// device still in use is set to go when its last user goes.
  public static func detach(loop device: String, timeout: Double = 15) {
    let deadline = Deadline(in: timeout)
    repeat {
      let result = try? Command("losetup", ["-d", device], timeout: 30).run()
      // 0: detached (or set to detach itself); ENXIO: no longer bound, already going.
      if result?.status == 0 || result?.stderrText.contains("No such device or address") == true {
        detached.withLock { _ = $0.insert(device) }
        return
      }
      usleep(300_000)
    } while !deadline.hasPassed
  }

  /// Detaches every loop device whose backing file lies at or below `folder`.
  public static func detachLoops(below folder: String) {
    for loop in Leftovers.loopDevices(below: folder) { detach(loop: loop.device) }
  }

  /// Deletes a network namespace by name.
  public static func deleteNamespace(_ name: String) {
    guard Files.exists("/run/netns/\(name)") else { return }
    _ = try? Command("ip", ["netns", "del", name], timeout: 20).run()
  }

  /// Ends `pids`: SIGTERM, up to `grace` seconds, then SIGKILL; reaps our own children.
  public static func kill(_ pids: [pid_t], grace: Double = 5) {
    let alive = pids.filter(Processes.isAlive)
    for pid in alive { Processes.signal(pid, SIGTERM) }
    for pid in Processes.waitForExit(alive, timeout: grace) { Processes.signal(pid, SIGKILL) }
    _ = Processes.waitForExit(alive, timeout: 5)
    for pid in pids { Processes.reap(pid) }
  }
}

extension Cleanup {
  /// A shell command for the first lines of a test's own mount namespace (`unshare --mount`):
  /// lazily unmounts its copies of loop-device and overlay mounts that are not at, below or
  /// above `keep` (a shell word, e.g. "$2"). A copy kept there would hold other tests' (and
  /// other test runs') filesystems busy, and their loop devices attached, after they unmount.
  public static func dropForeignMounts(keeping keep: String) -> String {
    """
    awk -v keep=\(keep)/ '{ i = 7; while ($i != "-") i++ } ($(i + 1) == "overlay" || $(i + 2) ~ "^/dev/loop") && $5 != "/" && index($5 "/", keep) != 1 && index(keep, $5 "/") != 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    """
  }
}

/// What a test left on the machine, found by names and paths unique to its run (so that other
/// test runs on the same machine do not count).
public enum Leftovers {
  /// Mounts at or below any of `paths`, loop devices backed by files below them, network
  /// namespaces whose names start with one of `namespacePrefixes`, live processes whose command
  /// line mentions one of `paths`, and `pids` still alive. Empty when the test cleaned up.
  public static func find(paths: [String], namespacePrefixes: [String] = [], pids: [pid_t] = []) -> [String] {
    var found: [String] = []
    let mounts = Mounts.points()
    for path in paths {
      found += mounts.filter { $0 == path || $0.hasPrefix(path + "/") }.map { "mount \($0)" }
      // A device set to detach itself (autoclear) and not mounted here is only held by a copy
      // of the mount in another mount namespace (another test's); it goes with that copy.
      let released = Cleanup.detached.withLock { $0 }
      found += loopDevices(below: path).filter { !$0.autoclear && !released.contains($0.device) }
        .map { "loop device \($0.device) (\($0.file))" }
    }
    let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
    for prefix in namespacePrefixes {
      found += namespaces.filter { $0.hasPrefix(prefix) }.map { "namespace \($0)" }
    }
    let me = getpid()
    for pid in Processes.all() where pid != me && Processes.isAlive(pid) {
      let words = Processes.commandLine(pid)
      if paths.contains(where: { path in words.contains { $0.contains(path) } }) {
        found.append("process \(pid) \(Processes.name(pid))")
      }
    }
    found += pids.filter(Processes.isAlive).map { "process \($0)" }
    return found
  }

  /// `find`, polled for up to `timeout` seconds: a lazily detached mount or a loop device set to
  /// detach itself goes a moment after its last user.
  public static func waitForNone(
    paths: [String], namespacePrefixes: [String] = [], pids: [pid_t] = [], timeout: Double = 10
  ) -> [String] {
    let deadline = Deadline(in: timeout)
    var left = find(paths: paths, namespacePrefixes: namespacePrefixes, pids: pids)
    while !left.isEmpty && !deadline.hasPassed {
      usleep(200_000)
      left = find(paths: paths, namespacePrefixes: namespacePrefixes, pids: pids)
    }
    return left
  }

  /// Loop devices whose backing file is at or below `folder`, as losetup lists them, and
  /// whether each is set to detach itself when its last user goes.
  public static func loopDevices(below folder: String) -> [(device: String, file: String, autoclear: Bool)] {
    let listing =
      (try? Command("losetup", ["-l", "-n", "--raw", "-O", "NAME,AUTOCLEAR,BACK-FILE"], timeout: 30).run().stdoutText) ?? ""
    return listing.split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
      guard fields.count == 3 else { return nil }
      // losetup marks a file deleted since with " (deleted)".
      let file = fields[2].replacingOccurrences(of: " (deleted)", with: "")
      return file == folder || file.hasPrefix(folder + "/") ? (fields[0], file, fields[1] == "1") : nil
    }
  }
}
