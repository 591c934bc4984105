import Foundation
import PiSwarmSystem
import Testing

/// Integration tests need root and real components. Under CI=true a missing prerequisite is a
/// failure; elsewhere the tests say why they do not run.
enum Prerequisites {
  static let programs = ["ip", "nsenter", "unshare", "tini-static", "sshd", "ssh", "ssh-keygen", "dockerd", "docker", "busybox"]

  static var missing: [String] {
    var missing = programs.filter { Command.resolve($0) == nil }
    if getuid() != 0 { missing.append("root") }
    return missing
  }

  static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

  /// For `.enabled(if:)`: run when everything is here, or when CI must fail loudly.
  static var shouldRun: Bool { missing.isEmpty || isCI }

  /// Tools the image and root tests use on top of root.
  static let imagePrograms = [
    "mcopy", "mkfs.vfat", "mkfs.ext4", "debugfs", "mkfs.btrfs", "btrfs", "losetup", "mount", "umount", "xz", "gzip", "zstd",
    "sha256sum", "ssh-keygen", "ganesha.nfsd", "rpcbind", "nfs-cat", "unshare", "nsenter", "ip",
  ]

  static var missingForImages: [String] {
    var missing = imagePrograms.filter { Command.resolve($0) == nil }
    if getuid() != 0 { missing.append("root") }
    return missing
  }

  /// For `.enabled(if:)` of the image and root suites.
  static var shouldRunImages: Bool { missingForImages.isEmpty || isCI }

  /// Records a failure when something is missing (only reached under CI or when all is there).
  static func require(images: Bool = false) -> Bool {
    let missing = images ? missingForImages : missing
    if !missing.isEmpty {
      Issue.record("integration prerequisites missing: \(missing.joined(separator: ", ")); run 'make deps' as root")
      return false
    }
    return true
  }
}
