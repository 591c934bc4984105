/// Where a node's Docker storage lives and how it is mounted at boot. Pure.
///
/// `loopfile` and `device` put one ext4 filesystem at `/var/lib/piswarm-node/storage`, with a
/// `docker` and a `containerd` folder bind-mounted over `/var/lib/docker` and
/// `/var/lib/containerd` (Docker 29 keeps images in the latter). `tmpfs` mounts two tmpfs
/// directly. Each lives in a block of `/etc/fstab` between piswarm's markers, so the node mounts
/// it at every boot; the rest of the file is left as it is.
public enum DockerStorageLayout {
  public static let base = "/var/lib/piswarm-node"
  public static let store = base + "/storage"
  public static let loopfile = base + "/docker.ext4"
  /// The mode the node's storage was last set up as (`loopfile:16G`, …); none means root.
  public static let marker = base + "/storage.mode"
  public static let dataRoot = "/var/lib/docker"
  public static let containerdRoot = "/var/lib/containerd"
  public static let begin = "# piswarm: Docker storage (begin). Written by piswarm; edit cluster.yml instead."
  public static let end = "# piswarm: Docker storage (end)"

  /// The fstab lines for `storage` (none for `root`). Every one is `nofail`: storage that is
  /// missing at boot (a loop file 'piswarm up' has not made yet, a USB disk unplugged) must not
  /// fail local-fs.target, or systemd drops into emergency mode and the node, never reachable
  /// over SSH, cannot be repaired by piswarm. The binds fail with their store; docker.service
  /// (its drop-in requires both mounts) then stays stopped instead.
  public static func fstabLines(_ storage: DockerStorage) -> [String] {
    let binds = [
      "\(store)/docker \(dataRoot) none bind,nofail,x-systemd.requires-mounts-for=\(store) 0 0",
      "\(store)/containerd \(containerdRoot) none bind,nofail,x-systemd.requires-mounts-for=\(store) 0 0",
    ]
    switch storage {
    case .root:
      return []
    case .loopfile:
      return ["\(loopfile) \(store) ext4 loop,noatime,nofail 0 0"] + binds
    case .device(let path):
      return ["\(path) \(store) ext4 noatime,nofail,x-systemd.device-timeout=15s 0 2"] + binds
    case .tmpfs(let size):
      return [
        "tmpfs \(dataRoot) tmpfs size=\(size.bytes),mode=0711 0 0",
        "tmpfs \(containerdRoot) tmpfs size=\(size.bytes),mode=0711 0 0",
      ]
    }
  }

  /// Where systemd is told that dockerd needs its storage.
  public static let systemdDropIn = "/etc/systemd/system/docker.service.d/piswarm-storage.conf"

  /// A drop-in for docker.service: it starts only once its storage is mounted. A mount that
  /// failed at boot (`nofail` keeps the node booting and reachable) then leaves dockerd stopped
  /// rather than running on the root filesystem, and the next 'piswarm up' mounts it again.
  public static func systemdDropInText(_ storage: DockerStorage) -> String? {
    guard storage != .root else { return nil }
    return """
      # Written by piswarm: Docker's storage (\(storage)) must be mounted before dockerd starts.
      [Unit]
      RequiresMountsFor=\(dataRoot) \(containerdRoot)

      """
  }

  /// `existing` with piswarm's block replaced by the one for `storage` (or removed, for `root`).
  /// Lines outside the markers stay byte for byte.
  public static func fstab(existing: String, storage: DockerStorage) -> String {
    var kept: [Substring] = []
    var inside = false
    for line in existing.split(separator: "\n", omittingEmptySubsequences: false) {
      if line == begin {
        inside = true
      } else if line == end {
        inside = false
      } else if !inside {
        kept.append(line)
      }
    }
    while kept.last == "" { kept.removeLast() }
    let block = fstabLines(storage)
    var lines = kept.map(String.init)
    if !block.isEmpty { lines += [begin] + block + [end] }
    return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
  }
}
