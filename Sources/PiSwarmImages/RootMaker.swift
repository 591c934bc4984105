import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What happened to one node's root.
public struct RootResult: Codable, Sendable, Equatable {
  public var node: String
  public var image: String
  public var method: RootMethod
  public var path: String
  /// True when the root was made now, false when it existed and was left alone.
  public var created: Bool
  /// Identity files that were (re)written, paths inside the root.
  public var changed: [String]
  /// The pinned host key's fingerprint (`SHA256:…`).
  public var hostKeyFingerprint: String
  public var seconds: Double
}

/// Makes per-node roots under the head's NFS root from an imported image, by the cheapest
/// copy-on-write means the NFS root's filesystem offers, and writes each node's identity into it.
public struct RootMaker: Sendable {
  public var layout: RootLayout
  public var images: ImageStore
  public var stateDirectory: String

  public init(nfsRoot: String, stateDirectory: String) {
    layout = RootLayout(nfsRoot: nfsRoot)
    images = ImageStore(stateDirectory: stateDirectory)
    self.stateDirectory = Files.absolute(stateDirectory)
  }

  public var knownHosts: String { stateDirectory + "/known_hosts" }

  /// What the NFS root's filesystem offers. Reflink is tried on a small file.
  public func capabilities() throws(PiSwarmError) -> RootMethod.Capabilities {
    try Files.makeDirectory(layout.nfsRoot, mode: 0o755)
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
      try Command("mount", ["-t", "ext4", "-o", "loop,ro,noload", images.rootFilesystem(image), base]).check()
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
    try Command("mount", ["-t", "ext4", "-o", "loop,ro,noload", images.rootFilesystem(image), mountPoint]).check()
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

  /// Makes `node`'s root unless it exists, then writes its identity (files only when changed).
  public func make(
    node: Node, image: String, method: RootMethod, headIP: IPv4Address, authorizedKey: String,
    daemon: DaemonConfig.Settings? = nil
  ) throws(PiSwarmError) -> RootResult {
    let started = Date()
    let root = layout.root(node.name)
    var created = false
    if method == .overlay {
      try ensureBase(image: image, method: .overlay)
      if !Files.exists(layout.upper(node.name)) {
        try makeOverlayUpper(node: node.name, image: image)
        created = true
      }
      try mountOverlay(node: node.name, image: image)
    } else if !Files.exists(root) {
      try ensureBase(image: image, method: method)
      let temporary = "\(layout.nfsRoot)/.tmp-\(node.name)-\(getpid())"
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
    var (changed, fingerprint) = try writeIdentity(identity, into: root, base: layout.source(image, method: method))
    // Docker's configuration, so that the node's dockerd starts as 'piswarm up' would leave it:
    // merged into what the root holds, like up does on a running node.
    if let daemon {
      let target = try insideRoot(root, DaemonConfig.path)
      let existing = try? String(contentsOfFile: target, encoding: .utf8)
      if try AtomicFile.write(try DaemonConfig.render(existing: existing, daemon), to: target) {
        changed.append(DaemonConfig.path)
      }
    }
    return RootResult(
      node: node.name, image: image, method: method, path: root, created: created, changed: changed,
      hostKeyFingerprint: fingerprint, seconds: Date().timeIntervalSince(started))
  }

  /// A new upper: made under a temporary name, mounted aside once to clear the base's identity
  /// (whiteouts land in the upper), unmounted, renamed into place.
  func makeOverlayUpper(node: String, image: String) throws(PiSwarmError) {
    let folder = "\(layout.nfsRoot)/.upper/\(node)"
    let temporary = "\(layout.nfsRoot)/.upper/.tmp-\(node)-\(getpid())"
    let mountPoint = "\(layout.nfsRoot)/.tmp-\(node)-\(getpid())"
    try removeTree(temporary)
    try Files.makeDirectory(temporary + "/upper", mode: 0o755)
    try Files.makeDirectory(temporary + "/work", mode: 0o700)
    try Files.makeDirectory(mountPoint, mode: 0o755)
    defer { rmdir(mountPoint) }
    do throws(PiSwarmError) {
      let options = RootLayout.overlayOptions(
        lower: layout.lower(image), upper: temporary + "/upper", work: temporary + "/work")
      try Command("mount", ["-t", "overlay", "overlay", "-o", options, mountPoint]).check()
      var cleared: PiSwarmError?
      do { try clearCloned(mountPoint) } catch { cleared = error }
      try Command("umount", [mountPoint]).check()
      if let cleared { throw cleared }
      guard rename(temporary, folder) == 0 else {
        throw PiSwarmError(.system, "cannot rename \(temporary) to \(folder): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? removeTree(temporary)
      throw error
    }
  }

  /// Mounts a node's overlay at `NFS_ROOT/NODE` unless it is mounted.
  func mountOverlay(node: String, image: String) throws(PiSwarmError) {
    let root = layout.root(node)
    if Filesystems.isMountPoint(root) { return }
    if !Files.exists(root) { try Files.makeDirectory(root, mode: 0o755) }
    try Command("mount", ["-t", "overlay", "overlay", "-o", layout.overlayOptions(image: image, node: node), root]).check()
  }

  /// What a fresh clone must not share with the base: host keys, D-Bus's machine-id, Docker's
  /// state.
  func clearCloned(_ root: String) throws(PiSwarmError) {
    for path in NodeIdentity.removedFromBase { unlink(root + path) }
    let docker = root + "/var/lib/docker"
    if Files.exists(docker) { try Command("rm", ["-rf", "--one-file-system", "--", docker]).check() }
    try Files.makeDirectory(docker, mode: 0o710)
  }

  /// Writes the identity files that differ, a machine-id unless the root has its own, an
  /// ed25519 host key unless it has one; pins the host key in STATE/known_hosts.
  func writeIdentity(_ identity: NodeIdentity, into root: String, base: String) throws(PiSwarmError) -> ([String], String) {
    var changed: [String] = []
    for file in identity.files {
      let target = try insideRoot(root, file.path)
      if try AtomicFile.write(file.content, to: target, mode: mode_t(file.mode)) { changed.append(file.path) }
    }
    let machineID = (try? String(contentsOfFile: root + "/etc/machine-id", encoding: .utf8)) ?? ""
    let baseMachineID = (try? String(contentsOfFile: base + "/etc/machine-id", encoding: .utf8)) ?? ""
    if !NodeIdentity.isMachineID(machineID) || machineID == baseMachineID {
      try AtomicFile.write(
        NodeIdentity.machineID(Self.randomMachineID()), to: try insideRoot(root, "/etc/machine-id"), mode: 0o444)
      changed.append("/etc/machine-id")
    }
    let key = try insideRoot(root, "/etc/ssh/ssh_host_ed25519_key")
    if !Files.exists(key) || !Files.exists(key + ".pub") {
      try makeHostKey(at: key, comment: "root@\(identity.node)")
      changed += ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub"]
    }
    let publicKey = String(decoding: try Files.read(key + ".pub"), as: UTF8.self)
    try KnownHosts.replace(
      hosts: [identity.ip.description], with: [NodeIdentity.knownHostsLine(ip: identity.ip, publicKey: publicKey)],
      in: knownHosts)
    let fingerprint =
      try Command("ssh-keygen", ["-l", "-E", "sha256", "-f", key + ".pub"]).check().stdoutText
      .split(separator: " ").dropFirst().first.map(String.init) ?? ""
    return (changed, fingerprint)
  }

  /// A new ed25519 key made in the state directory, then written into the root atomically.
  func makeHostKey(at path: String, comment: String) throws(PiSwarmError) {
    let scratch = "\(stateDirectory)/.hostkey-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try Files.makeDirectory(scratch, mode: 0o700)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", scratch + "/key"]).check()
    try AtomicFile.write(try Files.read(scratch + "/key"), to: path, mode: 0o600)
    try AtomicFile.write(try Files.read(scratch + "/key.pub"), to: path + ".pub", mode: 0o644)
  }

  /// 32 random lowercase hex digits (128 bits from the system's generator).
  static func randomMachineID() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<16).map { _ in
      let byte = UInt8.random(in: 0...255, using: &generator)
      return (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }.joined()
  }

  /// `root + path`, its parent folders made, refusing a parent that resolves outside the root
  /// (a symlink in the image pointing elsewhere on the head).
  func insideRoot(_ root: String, _ path: String) throws(PiSwarmError) -> String {
    let target = root + path
    let parent = URL(fileURLWithPath: target).deletingLastPathComponent().path
    if !Files.exists(parent) {
      try Files.makeDirectory(parent, mode: parent.hasSuffix("/.ssh") ? 0o700 : 0o755)
    }
    let resolvedRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
    let resolved = URL(fileURLWithPath: parent).resolvingSymlinksInPath().path
    guard resolved == resolvedRoot || resolved.hasPrefix(resolvedRoot + "/") else {
      throw PiSwarmError(
        .invalidInput, "\(parent) leads outside the node root (to \(resolved))",
        advice: "the image has a symlink where piswarm writes identity files; fix the image")
    }
    return target
  }

  // MARK: Head restarts and removal

  /// Mounts again what overlay roots need after the head restarted: each image's base, then
  /// each node's overlay. Returns the mount points it mounted.
  public func ensure(roots: [(node: String, image: String, method: RootMethod)]) throws(PiSwarmError) -> [String] {
    var mounted: [String] = []
    for root in roots where root.method == .overlay {
      if !Filesystems.isMountPoint(layout.lower(root.image)) {
        try ensureBase(image: root.image, method: .overlay)
        mounted.append(layout.lower(root.image))
      }
      if !Filesystems.isMountPoint(layout.root(root.node)) {
        try mountOverlay(node: root.node, image: root.image)
        mounted.append(layout.root(root.node))
      }
    }
    return mounted
  }

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
