import CPiSwarmSys
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

// Over 300 lines on purpose: every operation on an untrusted root (open, read, write, link,
// remove, walk) sits next to the one resolver they share, so a reviewer sees the whole
// confinement in one file.

/// A root filesystem the head does not trust (a node's root, which the node writes over NFS, or a
/// mounted image), reached only through a file descriptor of its top folder.
///
/// Every path is resolved by `openat2(…, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: `..` stops at
/// the root and absolute links resolve inside it, as the node itself sees them, so no link, of
/// whatever length, leads out to the head's own files; `/proc/…` magic links are refused. The last
/// component is never followed: a link there reads as absent, and a write replaces the link itself.
public final class ConfinedRoot: Sendable {
  /// What a path names, without following a final link.
  public enum Kind: Sendable, Equatable {
    case file, directory, symlink, other
  }

  /// The root's folder on the head (for messages).
  public let path: String
  let fd: Int32
  /// A dry run (`plan`): reads as usual; a write, link, removal or new folder changes nothing
  /// and says whether it would have (`write` and `link` return whether they would write).
  public let dryRun: Bool

  /// The most a read returns: a node cannot make the head read a file of any size.
  public static let readLimit = 16 << 20

  static let oPath = Int32(PISWARM_O_PATH)
  static let resolve = UInt64(PISWARM_RESOLVE_IN_ROOT | PISWARM_RESOLVE_NO_MAGICLINKS)

  /// Opens the folder `path` (itself not a link) as a root.
  public init(_ path: String, dryRun: Bool = false) throws(PiSwarmError) {
    let fd = open(path, Self.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw Self.failure("cannot open the root folder \(path)") }
    self.path = path
    self.fd = fd
    self.dryRun = dryRun
    // openat2 came with Linux 5.6; without it there is no safe way in.
    let probe = piswarm_openat2(fd, ".", UInt64(Self.oPath | O_DIRECTORY | O_CLOEXEC), 0, Self.resolve)
    guard probe >= 0 else {
      let error = Self.failure("cannot resolve paths inside \(path) safely (openat2)")
      close(fd)
      throw PiSwarmError(error.code, error.message, advice: "piswarm needs Linux 5.6 or later on the head")
    }
    close(probe)
  }

  deinit { close(fd) }

  // MARK: Reading

  /// The content of the regular file at `path`; nil when nothing, a link, a folder or a device
  /// is there.
  public func read(_ path: String) throws(PiSwarmError) -> Data? {
    let (folder, name) = try components(path)
    guard let parent = try openFolder(folder, path: path) else { return nil }
    defer { close(parent) }
    let handle = openat(parent, name, Self.oPath | O_NOFOLLOW | O_CLOEXEC)
    if handle < 0 {
      if errno == ENOENT { return nil }
      throw Self.failure("cannot open \(path) in \(self.path)")
    }
    defer { close(handle) }
    var info = stat()
    guard fstat(handle, &info) == 0 else { throw Self.failure("cannot read \(path) in \(self.path)") }
    guard info.st_mode & S_IFMT == S_IFREG else { return nil }
    if Int(info.st_size) > Self.readLimit {
      throw PiSwarmError(.system, "\(path) in \(self.path) is too large to read (\(info.st_size) bytes)")
    }
    // Opened again for reading through the O_PATH descriptor: the file checked above, never
    // what a swap of the name would put there.
    let file = open("/proc/self/fd/\(handle)", O_RDONLY | O_NOCTTY | O_CLOEXEC)
    guard file >= 0 else { throw Self.failure("cannot read \(path) in \(self.path)") }
    defer { close(file) }
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw Self.failure("cannot read \(path) in \(self.path)")
      }
      if count == 0 { break }
      data.append(contentsOf: buffer[0..<count])
      if data.count > Self.readLimit {
        throw PiSwarmError(.system, "\(path) in \(self.path) is too large to read")
      }
    }
    return data
  }

  /// What `path` names (a final link is reported as a link); nil when nothing is there.
  public func kind(_ path: String) throws(PiSwarmError) -> Kind? {
    let (folder, name) = try components(path)
    guard let parent = try openFolder(folder, path: path) else { return nil }
    defer { close(parent) }
    var info = stat()
    guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
      if errno == ENOENT { return nil }
      throw Self.failure("cannot look at \(path) in \(self.path)")
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    case S_IFLNK: return .symlink
    default: return .other
    }
  }

  // MARK: Writing

  /// Writes `data` to `path` atomically (a temporary file in the same folder, fsync, rename over
  /// the name: a link there is replaced, never followed) unless the file holds exactly that.
  /// Missing folders are made inside the root (the file's own folder with `folderMode`, those
  /// above it 0755). The file gets `mode`. Returns whether it wrote.
  @discardableResult
  public func write(
    _ data: Data, to path: String, mode: mode_t = 0o644, folderMode: mode_t = 0o755
  ) throws(PiSwarmError)
    -> Bool
  {
    if try kind(path) == .file, try read(path) == data { return false }
    if dryRun { return true }
    let (folder, name) = try components(path)
    let parent = try makeFolders(folder, mode: folderMode, path: path)
    defer { close(parent) }
    let temporary = ".\(name).piswarm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let file = openat(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    guard file >= 0 else { throw Self.failure("cannot create a file beside \(path) in \(self.path)") }
    var done = false
    defer { if !done { unlinkat(parent, temporary, 0) } }
    let written = data.withUnsafeBytes { buffer -> Bool in
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.write(file, buffer.baseAddress?.advanced(by: offset), buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        offset += n
      }
      return true
    }
    guard written, fchmod(file, mode) == 0, fsync(file) == 0 else {
      let error = Self.failure("cannot write \(path) in \(self.path)")
      close(file)
      throw error
    }
    close(file)
    guard renameat(parent, temporary, parent, name) == 0 else {
      throw Self.failure("cannot replace \(path) in \(self.path)")
    }
    done = true
    Self.sync(parent)
    return true
  }

  @discardableResult
  public func write(
    _ text: String, to path: String, mode: mode_t = 0o644, folderMode: mode_t = 0o755
  ) throws(PiSwarmError)
    -> Bool
  {
    try write(Data(text.utf8), to: path, mode: mode, folderMode: folderMode)
  }

  /// Puts the regular file at `path` in this root at the same path in `target` (another root of
  /// the same node): a hard link, so both names are one file, or, across filesystems or btrfs
  /// subvolumes (EXDEV), a reflink or kernel copy. Made beside the name and renamed over it.
  /// Never follows a link: a link, folder or device at `path` is an error, nothing there
  /// returns false. For what must stay one thing across a node's root generations (its Docker
  /// storage, whose swarm identity must not be cloned).
  @discardableResult
  public func share(_ path: String, into target: ConfinedRoot) throws(PiSwarmError) -> Bool {
    let (folder, name) = try components(path)
    guard let source = try openFolder(folder, path: path) else { return false }
    defer { close(source) }
    var status = stat()
    guard fstatat(source, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
      if errno == ENOENT { return false }
      throw Self.failure("cannot look at \(path) in \(self.path)")
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
      throw PiSwarmError(
        .invalidInput, "\(path) in \(self.path) is not a regular file", advice: "remove it from the node's root, then run again")
    }
    let parent = try target.makeFolders(folder, mode: 0o755, path: path)
    defer { close(parent) }
    let temporary = ".\(name).piswarm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    var done = false
    defer { if !done { unlinkat(parent, temporary, 0) } }
    if linkat(source, name, parent, temporary, 0) != 0 {
      guard errno == EXDEV else { throw Self.failure("cannot link \(path) from \(self.path) into \(target.path)") }
      let input = openat(source, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
      guard input >= 0 else { throw Self.failure("cannot open \(path) in \(self.path)") }
      defer { close(input) }
      let output = openat(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, status.st_mode & 0o7777)
      guard output >= 0 else { throw Self.failure("cannot create a file beside \(path) in \(target.path)") }
      defer { close(output) }
      guard piswarm_clone_file(input, output) == 0, fsync(output) == 0 else {
        throw Self.failure("cannot copy \(path) from \(self.path) into \(target.path)")
      }
    }
    guard renameat(parent, temporary, parent, name) == 0 else {
      throw Self.failure("cannot replace \(path) in \(target.path)")
    }
    done = true
    Self.sync(parent)
    return true
  }

  /// The target of the link at `path` as written in the link (never resolved); nil when no link
  /// is there.
  public func linkTarget(_ path: String) throws(PiSwarmError) -> String? {
    let (folder, name) = try components(path)
    guard let parent = try openFolder(folder, path: path) else { return nil }
    defer { close(parent) }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let count = readlinkat(parent, name, &buffer, buffer.count)
    guard count >= 0 else {
      if errno == ENOENT || errno == EINVAL { return nil }
      throw Self.failure("cannot read the link \(path) in \(self.path)")
    }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Makes `path` a symbolic link to `target` unless it is one already: a link for the node to
  /// resolve (a unit masked to `/dev/null`), which the head never follows. Made beside the name
  /// and renamed over it, so a file or link there is replaced whole. Returns whether it wrote.
  @discardableResult
  public func link(_ target: String, at path: String) throws(PiSwarmError) -> Bool {
    if try linkTarget(path) == target { return false }
    if dryRun { return true }
    let (folder, name) = try components(path)
    let parent = try makeFolders(folder, mode: 0o755, path: path)
    defer { close(parent) }
    let temporary = ".\(name).piswarm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    guard symlinkat(target, parent, temporary) == 0 else {
      throw Self.failure("cannot make a link beside \(path) in \(self.path)")
    }
    guard renameat(parent, temporary, parent, name) == 0 else {
      let error = Self.failure("cannot replace \(path) in \(self.path) with a link")
      unlinkat(parent, temporary, 0)
      throw error
    }
    Self.sync(parent)
    return true
  }

  /// Makes the folder `path` and its missing parents inside the root; `mode` for the folders it
  /// makes, folders that exist keep theirs.
  public func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(PiSwarmError) {
    if dryRun { return }
    close(try makeFolders(Self.split(path), mode: mode, path: path))
  }

  /// Removes the file or link at `path` (a link itself, never its target); nothing there is fine.
  public func unlink(_ path: String) throws(PiSwarmError) {
    if dryRun { return }
    let (folder, name) = try components(path)
    guard let parent = try openFolder(folder, path: path) else { return }
    defer { close(parent) }
    guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else {
      throw Self.failure("cannot remove \(path) in \(self.path)")
    }
  }

  /// Renames `from` to `to`, both inside the root (a link at either name is the link itself).
  public func rename(_ from: String, to: String) throws(PiSwarmError) {
    if dryRun { return }
    let (sourceFolder, sourceName) = try components(from)
    let (targetFolder, targetName) = try components(to)
    guard let source = try openFolder(sourceFolder, path: from) else {
      throw PiSwarmError(.notFound, "\(from) does not exist in \(path)")
    }
    defer { close(source) }
    let target = try makeFolders(targetFolder, mode: 0o755, path: to)
    defer { close(target) }
    guard renameat(source, sourceName, target, targetName) == 0 else {
      throw Self.failure("cannot rename \(from) to \(to) in \(path)")
    }
  }

  /// Removes `path` and everything below it, through descriptors: links are removed, never
  /// followed, and a folder on another filesystem (a mount inside) stops the removal.
  public func removeTree(_ path: String) throws(PiSwarmError) {
    if dryRun { return }
    let (folder, name) = try components(path)
    guard let parent = try openFolder(folder, path: path) else { return }
    defer { close(parent) }
    try removeTree(in: parent, name, device: nil, shown: path)
  }

  func removeTree(in parent: Int32, _ name: String, device: dev_t?, shown: String) throws(PiSwarmError) {
    var info = stat()
    guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
      if errno == ENOENT { return }
      throw Self.failure("cannot look at \(shown) in \(path)")
    }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else { throw Self.failure("cannot remove \(shown) in \(path)") }
      return
    }
    if let device, info.st_dev != device {
      throw PiSwarmError(
        .system, "\(shown) in \(path) is on another filesystem (a mount inside the root): not removed",
        advice: "unmount it, then run again")
    }
    let handle = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard handle >= 0 else { throw Self.failure("cannot open \(shown) in \(path)") }
    guard let stream = fdopendir(handle) else {
      let error = Self.failure("cannot list \(shown) in \(path)")
      close(handle)
      throw error
    }
    defer { closedir(stream) }
    var opened = stat()
    guard fstat(handle, &opened) == 0, opened.st_dev == info.st_dev, opened.st_ino == info.st_ino else {
      throw PiSwarmError(.system, "\(shown) in \(path) changed while it was being removed", advice: "run again")
    }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(stream) else {
        if errno != 0 { throw Self.failure("cannot list \(shown) in \(path)") }
        break
      }
      let entryName = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
      }
      if entryName != "." && entryName != ".." { names.append(entryName) }
    }
    for entryName in names {
      try removeTree(in: handle, entryName, device: device ?? info.st_dev, shown: shown + "/" + entryName)
    }
    guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
      throw Self.failure("cannot remove \(shown) in \(path)")
    }
  }

  // MARK: Resolution

  /// The components of `path` (absolute or not, resolved inside the root).
  static func split(_ path: String) -> [String] {
    path.split(separator: "/").map(String.init).filter { $0 != "." }
  }

  /// The parent's components and the last name, which must name a file.
  func components(_ path: String) throws(PiSwarmError) -> ([String], String) {
    var parts = Self.split(path)
    guard let name = parts.popLast(), name != "..", !name.contains("\0") else {
      throw PiSwarmError(.invalidInput, "\"\(path)\" names no file inside \(self.path)")
    }
    return (parts, name)
  }

  /// An O_PATH descriptor of the folder `parts` inside the root; nil when it does not exist.
  func openFolder(_ parts: [String], path shown: String) throws(PiSwarmError) -> Int32? {
    let relative = parts.isEmpty ? "." : parts.joined(separator: "/")
    let flags = UInt64(Self.oPath | O_DIRECTORY | O_CLOEXEC)
    var attempts = 0
    while true {
      let handle = piswarm_openat2(fd, relative, flags, 0, Self.resolve)
      if handle >= 0 { return handle }
      // The kernel asks for a retry when a rename or mount raced with the lookup.
      if errno == EAGAIN || errno == EINTR, attempts < 100 {
        attempts += 1
        continue
      }
      let code = errno
      if code == ENOENT || code == ENOTDIR { return nil }
      let error = Self.failure("cannot resolve \(shown) inside \(path)")
      throw PiSwarmError(
        .system, error.message,
        advice: code == ELOOP || code == EXDEV
          ? "the root holds a loop or a chain of too many links, or a link into /proc; fix or remake the node's root"
          : nil, cause: error.cause)
    }
  }

  /// The folder `parts`, made (with its missing parents) inside the root.
  /// The last gets `mode`, parents made on the way 0755.
  func makeFolders(_ parts: [String], mode: mode_t, path shown: String) throws(PiSwarmError) -> Int32 {
    for index in parts.indices {
      let folderMode: mode_t = index == parts.count - 1 ? mode : 0o755
      if let handle = try openFolder(Array(parts[...index]), path: shown) {
        if index == parts.count - 1 { return handle }
        close(handle)
        continue
      }
      guard let parent = try openFolder(Array(parts[..<index]), path: shown) else {
        throw PiSwarmError(.system, "\(shown) in \(path) changed while piswarm made its folders", advice: "run again")
      }
      defer { close(parent) }
      if mkdirat(parent, parts[index], folderMode) != 0 {
        if errno == EEXIST {
          throw PiSwarmError(
            .system,
            "cannot make the folder /\(parts[...index].joined(separator: "/")) in \(path): something that is not a folder is there (a file, or a link to nothing)",
            advice: "remove it from the node's root, then run again")
        }
        throw Self.failure("cannot make the folder /\(parts[...index].joined(separator: "/")) in \(path)")
      }
      // The exact mode, whatever the umask.
      let made = openat(parent, parts[index], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if made >= 0 {
        fchmod(made, folderMode)
        close(made)
      }
    }
    // The folder itself, also when made just now; no parts: the root.
    guard let handle = try openFolder(parts, path: shown) else {
      throw PiSwarmError(.system, "\(shown) in \(path) changed while piswarm made its folders", advice: "run again")
    }
    return handle
  }

  static func sync(_ folder: Int32) {
    let handle = openat(folder, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if handle >= 0 {
      fsync(handle)
      close(handle)
    }
  }

  static func failure(_ message: String) -> PiSwarmError {
    PiSwarmError(.system, message, cause: String(cString: strerror(errno)))
  }
}
