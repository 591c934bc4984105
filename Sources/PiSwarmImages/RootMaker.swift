import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Makes per-node roots under the head's NFS root from an imported image, by the cheapest
/// copy-on-write means the NFS root's filesystem offers, and writes each node's identity into it.
public struct RootMaker: Sendable {
  public var layout: RootLayout
  public var images: ImageStore
  public var stateDirectory: String
  /// A dry run (`plan`): `make` writes, mounts and pins nothing, and says what it would do: a
  /// root to make (`created`), or the paths in an existing root it would write (`changed`).
  public var dryRun = false

  public init(nfsRoot: String, stateDirectory: String) {
    layout = RootLayout(nfsRoot: nfsRoot)
    images = ImageStore(stateDirectory: stateDirectory)
    self.stateDirectory = Files.absolute(stateDirectory)
  }

  public var knownHosts: String { stateDirectory + "/known_hosts" }
  /// `STATE/hostkeys`: the public host key piswarm made for each node (`NODE.pub`), the only
  /// source of its known_hosts pin; never read back from the node's root.
  public var hostKeys: String { stateDirectory + "/hostkeys" }

  /// Mount options for every mount piswarm makes on the head of something a node or an image
  /// controls: no set-user-ID programs and no device files take effect on the head.
  static let safeMount = "nosuid,nodev"

  /// What the NFS root's filesystem offers. Reflink is tried on a small file. The NFS root is
  /// made (or tightened to) 0700: node roots hold keys that other users of the head must not
  /// read; the NFS server reads them as root.
  public func capabilities() throws(PiSwarmError) -> RootMethod.Capabilities {
    try Files.makePrivateDirectory(layout.nfsRoot)
    let type = Filesystems.type(of: layout.nfsRoot) ?? "unknown"
    let probe = "\(layout.nfsRoot)/.reflink-probe-\(getpid())"
    defer {
      unlink(probe)
      unlink(probe + ".copy")
    }
    var reflink = false
    if FileManager.default.createFile(atPath: probe, contents: Data(repeating: 1, count: 8192)) {
      reflink = (try? Command("cp", ["--reflink=always", probe, probe + ".copy"]).run().status) == 0
    }
    return RootMethod.Capabilities(filesystem: type, overlay: Filesystems.kernelSupports("overlay"), reflink: reflink)
  }

  /// The method to use: `requested` when it can work here, else the best one.
  public func method(_ requested: RootMethod?) throws(PiSwarmError) -> RootMethod {
    let capabilities = try capabilities()
    guard let requested else { return RootMethod.best(for: capabilities) }
    if let problem = RootMethod.problem(requested, with: capabilities) {
      throw PiSwarmError(
        .invalidInput, "cannot make roots by \(requested.rawValue) in \(layout.nfsRoot): \(problem)",
        advice: "leave --method out to use the best method available (\(RootMethod.best(for: capabilities).rawValue))")
    }
    return requested
  }

  // MARK: The base

  /// Makes the image's base for `method`, once: under `NFS_ROOT/.base/IMAGE` a read-only btrfs
  /// subvolume (snapshot) or a tree (reflink, copy); under `NFS_ROOT/.lower/IMAGE` a read-only
  /// loop mount of root.ext4 (overlay; mounted again by `ensure` after the head restarts).
  public func ensureBase(image: String, method: RootMethod) throws(PiSwarmError) {
    guard images.contains(image) else {
      throw PiSwarmError(
        .notFound, "no image named \(image) is imported", advice: "import it with 'piswarm image import FILE --name \(image)'")
    }
    let base = layout.source(image, method: method)
    try Files.makeDirectory(URL(fileURLWithPath: base).deletingLastPathComponent().path, mode: 0o755)
    switch method {
    case .overlay:
      if Filesystems.isMountPoint(base) { return }
      if !Files.exists(base) { try Files.makeDirectory(base, mode: 0o755) }
      try Command("mount", ["-t", "ext4", "-o", "loop,ro,noload,\(Self.safeMount)", images.rootFilesystem(image), base])
        .check()
    case .snapshot, .reflink, .copy:
      if Files.exists(base) { return }
      let temporary = "\(layout.nfsRoot)/.base/.tmp-\(image)-\(getpid())"
      try removeTree(temporary)
      if method == .snapshot {
        try Command("btrfs", ["subvolume", "create", temporary]).check()
      } else {
        try Files.makeDirectory(temporary, mode: 0o755)
      }
      do throws(PiSwarmError) {
        try withImageMounted(image) { (mountPoint) throws(PiSwarmError) in
          try Command("cp", ["-a", "--", mountPoint + "/.", temporary + "/"]).check()
        }
        if method == .snapshot { try Command("btrfs", ["property", "set", "-ts", temporary, "ro", "true"]).check() }
        guard rename(temporary, base) == 0 else {
          throw PiSwarmError(.system, "cannot rename \(temporary) to \(base): \(String(cString: strerror(errno)))")
        }
      } catch {
        try? removeTree(temporary)
        throw error
      }
    }
  }

  /// Runs `body` with the image's root.ext4 mounted read-only at a temporary folder.
  func withImageMounted(_ image: String, _ body: (String) throws(PiSwarmError) -> Void) throws(PiSwarmError) {
    let mountPoint = "\(images.directory)/.mnt-\(image)-\(getpid())"
    try Files.makeDirectory(mountPoint, mode: 0o700)
    defer { rmdir(mountPoint) }
    try Command("mount", ["-t", "ext4", "-o", "loop,ro,noload,\(Self.safeMount)", images.rootFilesystem(image), mountPoint])
      .check()
    defer { _ = try? Command("umount", [mountPoint]).run() }
    try body(mountPoint)
  }

  /// Removes a tree, a btrfs subvolume (read-only ones made writable first) included.
  func removeTree(_ path: String) throws(PiSwarmError) {
    guard Files.exists(path) else { return }
    if Filesystems.type(of: path) == "btrfs",
      (try? Command("btrfs", ["subvolume", "show", path]).run().status) == 0
    {
      _ = try? Command("btrfs", ["property", "set", "-ts", path, "ro", "false"]).run()
      try Command("btrfs", ["subvolume", "delete", path]).check()
      return
    }
    try Command("rm", ["-rf", "--one-file-system", "--", path]).check()
  }

  // MARK: Node roots

  /// Makes `node`'s root (generation `generation`, see `RootGeneration`) unless it exists, then
  /// writes its identity (files only when changed). With `carrying`, the path of the node's
  /// current root, a new root gets that root's host key and machine-id (`carryIdentity`).
  public func make(
    node: Node, image: String, method: RootMethod, headIP: IPv4Address, authorizedKey: String,
    daemon: DaemonConfig.Settings? = nil, generation: Int = 1, carrying current: String? = nil
  ) throws(PiSwarmError) -> RootResult {
    let started = Stopwatch()
    let root = layout.generation(node.name, generation)
    var created = false
    if dryRun {
      // A root to make: what it will hold is known only once it exists.
      guard Files.exists(method == .overlay ? layout.upper(node.name, generation: generation) : root) else {
        return RootResult(
          node: node.name, image: image, method: method, path: root, created: true, changed: [], hostKeyFingerprint: "",
          seconds: started.seconds)
      }
      if method == .overlay, !Filesystems.isMountPoint(root) {
        return RootResult(
          node: node.name, image: image, method: method, path: root, created: false, changed: [Self.overlayMount],
          hostKeyFingerprint: "", seconds: started.seconds)
      }
    } else if method == .overlay {
      if generation > 1 { try Files.makeDirectory(layout.generations(node.name), mode: 0o755) }
      try ensureBase(image: image, method: .overlay)
      if !Files.exists(layout.upper(node.name, generation: generation)) {
        try makeOverlayUpper(node: node.name, image: image, generation: generation)
        created = true
      }
      try mountOverlay(node: node.name, image: image, generation: generation)
    } else if !Files.exists(root) {
      try ensureBase(image: image, method: method)
      if generation > 1 { try Files.makeDirectory(layout.generations(node.name), mode: 0o755) }
      let temporary = "\(layout.nfsRoot)/.tmp-\(node.name)-\(generation > 1 ? "g\(generation)-" : "")\(getpid())"
      try removeTree(temporary)
      do throws(PiSwarmError) {
        switch method {
        case .snapshot: try Command("btrfs", ["subvolume", "snapshot", layout.base(image), temporary]).check()
        case .reflink: try Command("cp", ["-a", "--reflink=always", "--", layout.base(image), temporary]).check()
        case .copy: try Command("cp", ["-a", "--", layout.base(image), temporary]).check()
        case .overlay: break
        }
        try clearCloned(temporary)
        guard rename(temporary, root) == 0 else {
          throw PiSwarmError(.system, "cannot rename \(temporary) to \(root): \(String(cString: strerror(errno)))")
        }
      } catch {
        try? removeTree(temporary)
        throw error
      }
      created = true
    }
    let identity = NodeIdentity(
      node: node.name, ip: node.ip, headIP: headIP, nfsPath: root, authorizedKey: authorizedKey,
      dockerStorage: node.dockerStorage)
    let confined = try ConfinedRoot(root, dryRun: dryRun)
    if created, let current { try carryIdentity(node: node.name, from: try ConfinedRoot(current), into: confined) }
    var written = try writeIdentity(identity, into: confined, base: layout.source(image, method: method))
    written.changed += try prepareForNetboot(confined, node: node)
    // Docker's configuration, so that the node's dockerd starts as 'piswarm up' would leave it:
    // merged into what the root holds, like up does on a running node. A link there reads as
    // no file (a head file's keys never reach the node) and is replaced.
    if let daemon {
      let existing = try confined.read(DaemonConfig.path).map { String(decoding: $0, as: UTF8.self) }
      if try confined.write(try DaemonConfig.render(existing: existing, daemon), to: DaemonConfig.path) {
        written.changed.append(DaemonConfig.path)
      }
    }
    return RootResult(
      node: node.name, image: image, method: method, path: root, created: created, changed: written.changed,
      hostKeyFingerprint: written.key?.fingerprint ?? "", seconds: started.seconds, warnings: written.warnings)
  }

  /// What a dry run says of an overlay root whose overlay is not mounted (the head restarted):
  /// it is mounted again, and its files are read after.
  public static let overlayMount = "(its overlay mount)"

  /// A new upper: made under a temporary name, mounted aside once to clear the base's identity
  /// (whiteouts land in the upper), unmounted, renamed into place.
  func makeOverlayUpper(node: String, image: String, generation: Int = 1) throws(PiSwarmError) {
    let folder = layout.overlayFolder(node, generation: generation)
    let tag = "\(node)-\(generation > 1 ? "g\(generation)-" : "")\(getpid())"
    let temporary = "\(layout.nfsRoot)/.upper/.tmp-\(tag)"
    let mountPoint = "\(layout.nfsRoot)/.tmp-\(tag)"
    if generation > 1 { try Files.makeDirectory(layout.overlayFolder(node, generation: 1), mode: 0o755) }
    try removeTree(temporary)
    try Files.makeDirectory(temporary + "/upper", mode: 0o755)
    try Files.makeDirectory(temporary + "/work", mode: 0o700)
    try Files.makeDirectory(mountPoint, mode: 0o755)
    defer { rmdir(mountPoint) }
    do throws(PiSwarmError) {
      let options = RootLayout.overlayOptions(
        lower: layout.lower(image), upper: temporary + "/upper", work: temporary + "/work")
      try Command("mount", ["-t", "overlay", "overlay", "-o", "\(Self.safeMount),\(options)", mountPoint]).check()
      var cleared: PiSwarmError?
      do { try clearCloned(mountPoint) } catch { cleared = error }
      Self.unmount(mountPoint)
      if Filesystems.isMountPoint(mountPoint) {
        throw PiSwarmError(
          .system, "cannot unmount \(mountPoint): it is busy", advice: "run the command again; piswarm removes it then")
      }
      if let cleared { throw cleared }
      guard rename(temporary, folder) == 0 else {
        throw PiSwarmError(.system, "cannot rename \(temporary) to \(folder): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? removeTree(temporary)
      throw error
    }
  }

  /// Mounts a node's overlay (generation `generation`: `NFS_ROOT/NODE` for the first) unless it
  /// is mounted.
  func mountOverlay(node: String, image: String, generation: Int = 1) throws(PiSwarmError) {
    let root = layout.generation(node, generation)
    if Filesystems.isMountPoint(root) { return }
    if !Files.exists(root) { try Files.makeDirectory(root, mode: 0o755) }
    let options = RootLayout.overlayOptions(
      lower: layout.lower(image), upper: layout.upper(node, generation: generation),
      work: layout.work(node, generation: generation))
    try Command("mount", ["-t", "overlay", "overlay", "-o", "\(Self.safeMount),\(options)", root]).check()
  }

  /// What a fresh clone must not share with the base: host keys, D-Bus's machine-id, Docker's
  /// state. Through the root's descriptor: links in the image resolve inside it.
  func clearCloned(_ root: String) throws(PiSwarmError) {
    let confined = try ConfinedRoot(root)
    for path in NodeIdentity.removedFromBase { try confined.unlink(path) }
    try confined.removeTree("/var/lib/docker")
    try confined.makeDirectory("/var/lib/docker", mode: 0o710)
  }

  /// What `writeIdentity` did.
  struct WrittenIdentity {
    var changed: [String]
    /// The pinned host key; nil in a dry run that would make one.
    var key: SSHHostKey?
    var warnings: [String]
  }

  // MARK: Head restarts and removal

  /// Removes a node's root (unmounting its overlay and removing its upper).
  public func remove(node: String, method: RootMethod) throws(PiSwarmError) {
    let root = layout.root(node)
    if method == .overlay {
      if Filesystems.isMountPoint(root) { try Command("umount", [root]).check() }
      rmdir(root)
      try removeTree("\(layout.nfsRoot)/.upper/\(node)")
    } else {
      try removeTree(root)
    }
    forgetHostKey(node)
  }

  /// Removes an image's base for `method`: unmounts the overlay lower layer, or removes the
  /// subvolume or tree. Only when no root of that kind uses it any more.
  public func removeBase(image: String, method: RootMethod) throws(PiSwarmError) {
    if method == .overlay {
      let lower = layout.lower(image)
      if Filesystems.isMountPoint(lower) { try Command("umount", [lower]).check() }
      rmdir(lower)
    } else {
      try removeTree(layout.base(image))
    }
  }
}
