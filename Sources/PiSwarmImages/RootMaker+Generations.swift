import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Root generations on disk (`RootGeneration`): a new root for an upgrade with the node's
/// identity carried over, a copy of the current root as a backup, the Docker storage moved along
/// at each switch, and removal. The bookkeeping (which generation boots) is the state store's.
extension RootMaker {
  /// What a new generation takes from the node's current root, through descriptors (never a
  /// link followed): the host key pair (the private key's bytes as they are; the public half
  /// from the head's own record, `STATE/hostkeys/NODE.pub`, never from the root — a node that
  /// changed its key fails the strict SSH check after its reboot) and the machine-id (only a
  /// well-formed one). Same key, same machine-id: the node is the same machine to SSH, to
  /// journald and to D-Bus after the upgrade.
  func carryIdentity(node: String, from current: ConfinedRoot, into root: ConfinedRoot) throws(PiSwarmError) {
    if let pinned = try pinnedHostKey(node), try current.kind(Self.hostKeyPath) == .file,
      let privateKey = try current.read(Self.hostKeyPath), privateKey.count < 16 << 10
    {
      try root.write(privateKey, to: Self.hostKeyPath, mode: 0o600)
      try root.write(pinned.publicKeyLine, to: Self.hostKeyPath + ".pub", mode: 0o644)
    }
    if let data = try current.read("/etc/machine-id"), data.count < 64 {
      let text = String(decoding: data, as: UTF8.self)
      if NodeIdentity.isMachineID(text) { try root.write(data, to: "/etc/machine-id", mode: 0o444) }
    }
  }

  /// A copy of the current root as generation `number` (the backup before `upgrade
  /// --packages` changes the current one in place): a btrfs snapshot, a reflink copy or a full
  /// copy of the tree, or for an overlay a copy of its upper layer over the same image. The
  /// node keeps running on the current root; the copy is made under a temporary name and
  /// renamed into place.
  public func copyGeneration(node: String, from current: RootGeneration, as number: Int) throws(PiSwarmError) -> String {
    let path = layout.generation(node, number)
    guard !Files.exists(path) || current.method == .overlay && !Filesystems.isMountPoint(path) else {
      throw PiSwarmError(.system, "\(path) exists already", advice: "remove it with 'piswarm root prune \(node)' first")
    }
    try Files.makeDirectory(layout.generations(node), mode: 0o755)
    let tag = "\(node)-g\(number)-\(getpid())"
    if current.method == .overlay {
      let temporary = "\(layout.nfsRoot)/.upper/.tmp-\(tag)"
      try removeTree(temporary)
      try Files.makeDirectory(temporary, mode: 0o755)
      do throws(PiSwarmError) {
        try Command("cp", ["-a", "--reflink=auto", "--", layout.upper(node, generation: current.number), temporary + "/upper"])
          .check()
        try Files.makeDirectory(temporary + "/work", mode: 0o700)
        try Files.makeDirectory(layout.overlayFolder(node, generation: 1), mode: 0o755)
        guard rename(temporary, layout.overlayFolder(node, generation: number)) == 0 else {
          throw PiSwarmError(.system, "cannot rename \(temporary): \(String(cString: strerror(errno)))")
        }
      } catch {
        try? removeTree(temporary)
        throw error
      }
      try ensureBase(image: current.image, method: .overlay)
      try mountOverlay(node: node, image: current.image, generation: number)
      return path
    }
    let temporary = "\(layout.nfsRoot)/.tmp-\(tag)"
    try removeTree(temporary)
    do throws(PiSwarmError) {
      switch current.method {
      case .snapshot: try Command("btrfs", ["subvolume", "snapshot", current.path, temporary]).check()
      case .reflink: try Command("cp", ["-a", "--reflink=always", "--", current.path, temporary]).check()
      case .copy, .overlay: try Command("cp", ["-a", "--", current.path, temporary]).check()
      }
      guard rename(temporary, path) == 0 else {
        throw PiSwarmError(.system, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? removeTree(temporary)
      throw error
    }
    return path
  }

  /// The folder where a generation's own files are (an overlay's upper layer, else the root).
  func ownFiles(_ node: String, _ generation: RootGeneration) -> String {
    generation.method == .overlay ? layout.upper(node, generation: generation.number) : generation.path
  }

  /// Puts the Docker storage of the generation being left (`from`) into the one about to boot
  /// (`to`), while the node is off: the loop file (`/var/lib/piswarm-node/docker.ext4`,
  /// where Docker keeps its images, volumes and swarm state: node ID, certificates, raft log) as
  /// a hard link, so one file serves every generation and the node keeps its swarm identity
  /// both ways; a reflink or a copy where a link cannot cross (btrfs subvolumes). The storage
  /// mode marker is copied. A node whose storage is on its own disk or in tmpfs has no file
  /// to carry. An overlay target is unmounted for the change and mounted again (its upper layer
  /// must not change under a mount). Returns the paths it carried.
  @discardableResult
  public func carryStorage(node: String, from: RootGeneration, to: RootGeneration) throws(PiSwarmError) -> [String] {
    let remount = to.method == .overlay && Filesystems.isMountPoint(to.path)
    if remount {
      Self.unmount(to.path)
      if Filesystems.isMountPoint(to.path) {
        throw PiSwarmError(
          .system, "cannot unmount \(to.path) to put \(node)'s Docker storage in it: it is busy",
          advice: "restart the NFS server (it may still serve that root), then run again")
      }
    }
    var carried: [String] = []
    do throws(PiSwarmError) {
      let source = try ConfinedRoot(ownFiles(node, from))
      let target = try ConfinedRoot(ownFiles(node, to))
      if try source.share(DockerStorageLayout.loopfile, into: target) { carried.append(DockerStorageLayout.loopfile) }
      if let marker = try source.read(DockerStorageLayout.marker), try target.write(marker, to: DockerStorageLayout.marker) {
        carried.append(DockerStorageLayout.marker)
      }
    } catch {
      if remount { try? mountOverlay(node: node, image: to.image, generation: to.number) }
      throw error
    }
    if remount { try mountOverlay(node: node, image: to.image, generation: to.number) }
    return carried
  }

  /// Removes one generation of a node's root (never the pinned host key: the node lives on in
  /// its other generations).
  public func removeGeneration(node: String, _ generation: RootGeneration) throws(PiSwarmError) {
    if generation.method == .overlay {
      if Filesystems.isMountPoint(generation.path) {
        Self.unmount(generation.path)
        if Filesystems.isMountPoint(generation.path) {
          throw PiSwarmError(
            .system, "cannot unmount \(generation.path): it is busy",
            advice: "restart the NFS server (it may still serve that root), then run again")
        }
      }
      rmdir(generation.path)
      if generation.number <= 1 {
        try removeTree(layout.upper(node))
        try removeTree(layout.work(node))
      } else {
        try removeTree(layout.overlayFolder(node, generation: generation.number))
      }
    } else {
      try removeTree(generation.path)
    }
  }

  /// Mounts again what overlay roots need after the head restarted (`root ensure`): for every
  /// overlay generation, its image's base, then its overlay, each unless mounted (with
  /// `index=on` an upper may be mounted only once). Returns the mount points it mounted.
  public func ensure(generations: [RootGeneration]) throws(PiSwarmError) -> [String] {
    var mounted: [String] = []
    for generation in generations where generation.method == .overlay {
      if !Filesystems.isMountPoint(layout.lower(generation.image)) {
        try ensureBase(image: generation.image, method: .overlay)
        mounted.append(layout.lower(generation.image))
      }
      if !Filesystems.isMountPoint(generation.path) {
        try mountOverlay(node: generation.node, image: generation.image, generation: generation.number)
        mounted.append(generation.path)
      }
    }
    return mounted
  }
}
