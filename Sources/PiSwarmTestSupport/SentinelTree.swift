import Crypto
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A stand-in for the head's own /etc, /var and /root, outside any node root: tests point a
/// hostile root's absolute links at it (never at the real ones) and check that nothing in it
/// changed. Removed when the test is done with it.
public final class SentinelTree: Sendable {
  public let path: String

  public init() {
    path = "/tmp/piswarm-sentinel-\(getpid())-\(UUID().uuidString.prefix(8))"
    let files: [String: String] = [
      "etc/hostname": "head\n",
      "etc/hosts": "127.0.0.1 localhost head\n",
      "etc/fstab": "UUID=head / ext4 defaults 0 1\n",
      "etc/machine-id": "fedcba9876543210fedcba9876543210\n",
      "etc/ssh/ssh_host_ed25519_key": "the head's private host key\n",
      "etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAAhead root@head\n",
      "etc/ssh/ssh_host_rsa_key": "the head's rsa key\n",
      "etc/docker/daemon.json": "{\"head\": true}\n",
      "var/lib/docker/volumes/precious": "the head's docker data\n",
      "var/lib/dbus/machine-id": "fedcba9876543210fedcba9876543210\n",
      "root/.ssh/authorized_keys": "ssh-ed25519 AAAAadmin admin@head\n",
      "secret.json": "{\"registry-password\": \"s3cr3t-from-the-head\"}\n",
    ]
    try? FileTree.write(files, under: path)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  public func file(_ name: String) -> String { path + "/" + name }

  /// Every entry below, with its kind, mode and (for files) the SHA-256 of its content, or its
  /// link target: any change shows.
  public func fingerprint() -> [String] {
    var lines: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let name = enumerator?.nextObject() as? String {
      let full = path + "/" + name
      var info = stat()
      guard lstat(full, &info) == 0 else { continue }
      let mode = String(info.st_mode, radix: 8)
      switch info.st_mode & S_IFMT {
      case S_IFREG:
        lines.append("\(name) file \(mode) \(SHA256.hex(FileManager.default.contents(atPath: full) ?? Data()))")
      case S_IFLNK:
        lines.append("\(name) link \((try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? "?")")
      default:
        lines.append("\(name) \(mode)")
      }
    }
    return lines.sorted()
  }
}
