import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Where imported images live: `STATE/images/NAME/` with `boot/` (the FAT partition's files, what
/// TFTP serves) and `root.ext4` (the root partition's filesystem, sparse, never mounted
/// read-write: the base every node root is made from).
public struct ImageStore: Sendable {
  public let directory: String

  public init(stateDirectory: String) { directory = Files.absolute(stateDirectory) + "/images" }

  public func folder(_ name: String) -> String { "\(directory)/\(name)" }
  public func boot(_ name: String) -> String { folder(name) + "/boot" }
  public func rootFilesystem(_ name: String) -> String { folder(name) + "/root.ext4" }

  /// Whether an import of `name` is complete (its folder exists under its final name).
  public func contains(_ name: String) -> Bool { Files.exists(rootFilesystem(name)) }

  /// Starts an import (or a capture, `verb`) of `name`: checks the name is valid and free, and
  /// makes the folder it happens in, `.import-NAME{tag}-PID` (found and removed later if the
  /// process dies), after removing abandoned ones. Returns the folder's path.
  public func beginImport(_ name: String, verb: String, tag: String = "", mode: mode_t) throws(PiSwarmError) -> String {
    if let problem = ImageName.problem(with: name) {
      throw PiSwarmError(.invalidInput, "\"\(name)\" cannot name an image: \(problem)", advice: "choose another with --name")
    }
    if contains(name) {
      throw PiSwarmError(
        .exists, "an image named \(name) exists already",
        advice: "remove it first ('piswarm image rm \(name)') or \(verb) under another name with --name")
    }
    try Files.makeDirectory(directory, mode: 0o755)
    removeAbandonedImports()
    let temporary = "\(directory)/.import-\(name)\(tag)-\(getpid())"
    try? FileManager.default.removeItem(atPath: temporary)
    try Files.makeDirectory(temporary, mode: mode)
    return temporary
  }

  /// Removes what an import interrupted before its rename left behind (`.import-NAME-PID`
  /// folders whose process is gone).
  public func removeAbandonedImports() {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for entry in entries where entry.hasPrefix(".import-") {
      guard let pid = entry.split(separator: "-").last.flatMap({ pid_t($0) }), !Processes.isAlive(pid) else { continue }
      try? FileManager.default.removeItem(atPath: "\(directory)/\(entry)")
    }
  }

  /// Removes an image's folder.
  public func remove(_ name: String) throws(PiSwarmError) {
    guard Files.exists(folder(name)) else { return }
    // Renamed away first, so that a half-removed image never looks like an image.
    let doomed = "\(directory)/.remove-\(name)-\(getpid())"
    guard rename(folder(name), doomed) == 0 else {
      throw PiSwarmError(.system, "cannot remove \(folder(name)): \(String(cString: strerror(errno)))")
    }
    do { try FileManager.default.removeItem(atPath: doomed) } catch {
      throw PiSwarmError(.system, "cannot remove \(doomed)", cause: error.localizedDescription)
    }
  }
}
