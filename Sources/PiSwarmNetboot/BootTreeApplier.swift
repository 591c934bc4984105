import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Applies a `BootTree`: folders 0755, files 0644 (dnsmasq reads them as `nobody`), links,
/// each written only when it differs. Folders piswarm made before (the manifest) and no longer
/// planned are removed with all they hold; planned folders lose entries that are not planned.
/// Nothing else under the TFTP root is touched.
///
/// Firmware links are hard links where the target is a regular file on the TFTP root's
/// filesystem (a new inode costs 0.5–0.8 ms of kernel time on a churned ext4, a link 14 µs), else
/// symbolic links (a folder such as `overlays`, another filesystem, a filesystem without hard
/// links), one a target and run, hard-linked into the other folders (`FirmwareLinks`). A
/// symbolic link to the planned target (as older versions made them all) is left as it is; a
/// hard link to a file the target no longer is (a newer import) is replaced. Files of the
/// same content and mode written in one run are written once and hard-linked (a node's MAC and
/// serial folders share one `cmdline.txt`, nodes of a model one `config.txt`); a file is always
/// replaced by rename, never written in place, so one node's update leaves the others' files.
///
/// Durable: file contents are fsynced before they appear under their names, and every folder
/// that got a file or a link (and the TFTP root when a folder was made) is fsynced at the end.
public enum BootTreeApplier {
  struct Manifest: Codable {
    var root: String
    var folders: [String]
  }

  ///
  /// `dryRun` (`plan`): writes nothing and returns the changes it would make. `renewed`: link
  /// targets the same run replaces before (published firmware a dry run did not publish): a hard
  /// link to one is counted as replaced, as the run will replace it.
  public static func apply(
    _ tree: BootTree, manifest path: String, dryRun: Bool = false, renewed: Set<String> = []
  ) throws(PiSwarmError) -> [FileChange] {
    var changes: [FileChange] = []
    if !isDirectory(tree.root) {
      if !dryRun { try Files.makeDirectory(tree.root, mode: 0o755) }
      changes.append(FileChange(tree.root, .created))
    }
    // The manifest is written first with old and new folders, so that an apply that stops half
    // way still knows every folder it may have made.
    var old = readManifest(path)
    if let moved = old, moved.root != tree.root {
      // head.tftp_root moved: the folders made under the old root go (only those).
      for folder in moved.folders where isOwnFolderName(folder) {
        let full = moved.root + "/" + folder
        if exists(full) || isSymlink(full) {
          if !dryRun { try removeAny(full) }
          changes.append(FileChange(full, .removed))
        }
      }
      if !dryRun { try writeManifest(Manifest(root: tree.root, folders: []), to: path) }
      old = nil
    }
    let oldFolders = old?.folders ?? []
    let newFolders = tree.folders.map(\.name).uniqued()
    if !dryRun { try writeManifest(Manifest(root: tree.root, folders: (oldFolders + newFolders).uniqued()), to: path) }

    // cmdline.txt and config.txt of every folder: staged, then made durable and renamed into
    // place together (two syncs instead of two fsyncs a file: 1,000 nodes have 4,000 files), the
    // same content written once and hard-linked.
    let batch = AtomicBatch(sharing: true)
    var files: [String] = []
    var planned = Set<String>()
    var links = FirmwareLinks(root: tree.root)
    // The folder this run made last ("NAME/"): it is empty, so its entries need no look first,
    // and nothing in it needs removing after.
    var made: String?
    var madeFolders = Set<String>()
    for entry in tree.entries {
      planned.insert(entry.path)
      let inMade = made.map { entry.path.hasPrefix($0) } ?? false
      switch entry {
      case .directory(let folder):
        if dryRun {
          if !isDirectory(folder) { changes.append(FileChange(folder, .created)) }
        } else if !isDirectory(folder) {
          try removeAny(folder)
          try Files.makeDirectory(folder, mode: 0o755)
          changes.append(FileChange(folder, .created))
          made = folder + "/"
          madeFolders.insert(folder)
          batch.syncFolder(folder)
          batch.syncFolder(tree.root)
        } else {
          made = nil
          setMode(folder, 0o755)
        }
      case .file(let file, let content):
        if inMade {
          try batch.stage(content, to: file, mode: 0o644)
          changes.append(FileChange(file, .created))
          continue
        }
        let existed = exists(file)
        if dryRun {
          if isSymlink(file) || !AtomicFile.holds(content, at: file) {
            changes.append(FileChange(file, existed ? .updated : .created))
          }
          continue
        }
        if isSymlink(file) { try removeAny(file) }
        if try batch.stage(content, to: file, mode: 0o644) {
          changes.append(FileChange(file, existed ? .updated : .created))
        }
        files.append(file)
      case .link(let entryPath, let target):
        // Nothing there yet (a new folder's links): one link(2) or symlink(2), no temporary.
        if inMade {
          try links.make(entryPath, to: target, replacing: false)
          changes.append(FileChange(entryPath, .linked))
          continue
        }
        if links.isCurrent(entryPath, to: target, renewed: renewed.contains(target)) { continue }
        if !dryRun {
          try links.make(entryPath, to: target, replacing: existsOrDangles(entryPath))
          batch.syncFolder((entryPath as NSString).deletingLastPathComponent)
        }
        changes.append(FileChange(entryPath, .linked))
      }
    }
    if !dryRun {
      try batch.commit()
      // Files that were there before keep 0644 (a staged one got it when it was made).
      for file in files { setMode(file, 0o644) }
    }
    // Entries inside planned folders that the plan does not have (a folder made now has none).
    for folder in newFolders where !madeFolders.contains(tree.root + "/" + folder) {
      let full = tree.root + "/" + folder
      for name in (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? [] where !planned.contains(full + "/" + name) {
        if !dryRun { try removeAny(full + "/" + name) }
        changes.append(FileChange(full + "/" + name, .removed))
      }
    }
    // Folders of nodes that are gone.
    for folder in oldFolders where !newFolders.contains(folder) && isOwnFolderName(folder) {
      let full = tree.root + "/" + folder
      if exists(full) || isSymlink(full) {
        if !dryRun { try removeAny(full) }
        changes.append(FileChange(full, .removed))
      }
    }
    if !dryRun { try writeManifest(Manifest(root: tree.root, folders: newFolders), to: path) }
    return changes
  }

  /// Entries in the TFTP root that are not piswarm's folders: an unknown machine whose MAC folder
  /// is missing is served from the root, so anything bootable there would boot it.
  public static func strangers(in tree: BootTree) -> [String] {
    let ours = Set(tree.folders.map(\.name))
    let names = (try? FileManager.default.contentsOfDirectory(atPath: tree.root)) ?? []
    return names.filter { !ours.contains($0) }.sorted().map { tree.root + "/" + $0 }
  }

  /// A manifest entry is one plain name (a hand-edited manifest must not reach outside the root).
  static func isOwnFolderName(_ name: String) -> Bool {
    !name.isEmpty && !name.contains("/") && name != "." && name != ".."
  }

  static func readManifest(_ path: String) -> Manifest? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(Manifest.self, from: data)
  }

  static func writeManifest(_ manifest: Manifest, to path: String) throws(PiSwarmError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(manifest) else { throw PiSwarmError(.system, "cannot encode the TFTP manifest") }
    try AtomicFile.write(data + Data("\n".utf8), to: path, mode: 0o600)
  }

  static func removeAny(_ path: String) throws(PiSwarmError) {
    guard exists(path) || isSymlink(path) else { return }
    do { try FileManager.default.removeItem(atPath: path) } catch {
      throw PiSwarmError(.system, "cannot remove \(path)", cause: error.localizedDescription)
    }
  }

  static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  /// chmod(2) only when the mode differs: a chmod to the same mode still changes the inode
  /// (its ctime), which the filesystem then journals, on every no-op run, for thousands of files.
  static func setMode(_ path: String, _ mode: mode_t) {
    var info = stat()
    if lstat(path, &info) == 0, info.st_mode & 0o7777 == mode { return }
    chmod(path, mode)
  }

  /// Whether anything is at `path`, a dangling link included.
  static func existsOrDangles(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  /// Where the symbolic link at `path` points, or nil when it is not one.
  static func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count >= 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  static func isSymlink(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
  }

  /// Why `nobody` could not read `path` (a folder on the way without o+x, the file without o+r),
  /// or nil.
  public static func unreadableByOthers(_ path: String) -> String? {
    var current = ""
    let parts = path.split(separator: "/")
    for (index, part) in parts.enumerated() {
      current += "/" + part
      var info = stat()
      guard stat(current, &info) == 0 else { return "\(current) does not exist" }
      let isLast = index == parts.count - 1
      if (info.st_mode & S_IFMT) == S_IFDIR {
        if info.st_mode & 0o001 == 0 {
          return "\(current) is not searchable by others (mode \(String(info.st_mode & 0o7777, radix: 8)))"
        }
        if isLast && info.st_mode & 0o004 == 0 { return "\(current) is not readable by others" }
      } else if isLast && info.st_mode & 0o004 == 0 {
        return "\(current) is not readable by others"
      }
    }
    return nil
  }
}

extension Array where Element: Hashable {
  func uniqued() -> [Element] {
    var seen = Set<Element>()
    return filter { seen.insert($0).inserted }
  }
}
