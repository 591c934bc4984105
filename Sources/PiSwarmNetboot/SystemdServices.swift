import Foundation
import PiSwarmCore
import PiSwarmSystem

/// systemd, when it is the running init.
public struct SystemdServices: ServiceControl {
  public init() {}

  public var unavailableReason: String? {
    Files.exists("/run/systemd/system") ? nil : "systemd is not running here"
  }

  public func restart(_ service: String) throws(PiSwarmError) {
    try Command("systemctl", ["restart", service], timeout: 60).check()
  }

  public func isActive(_ service: String) -> Bool {
    (try? Command("systemctl", ["is-active", "--quiet", service], timeout: 20).run().status) == 0
  }

  public func enable(_ service: String) throws(PiSwarmError) {
    try Command("systemctl", ["daemon-reload"], timeout: 60).check()
    try Command("systemctl", ["enable", "--quiet", service], timeout: 60).check()
  }

  public func stop(_ service: String) throws(PiSwarmError) {
    try Command("systemctl", ["stop", service], timeout: 60).check()
  }

  public func disable(_ service: String) throws(PiSwarmError) {
    try Command("systemctl", ["disable", "--now", "--quiet", service], timeout: 60).check()
  }

  /// `/etc/exports.d/piswarm.exports` where nfs-kernel-server is installed (it has exportfs)
  /// and systemd runs it.
  public var kernelExportsFile: String? {
    unavailableReason == nil && Command.resolve("exportfs") != nil && Files.exists("/etc/exports.d")
      ? "/etc/exports.d/piswarm.exports" : nil
  }

  public func reloadExports() throws(PiSwarmError) {
    try Command("exportfs", ["-ra"], timeout: 60).check()
  }

  /// `/etc/ganesha/ganesha.conf` where Debian's nfs-ganesha service is installed and systemd
  /// runs it (the package alone, as in the lab, does not serve anything).
  public var ganeshaMainConfig: String? {
    unavailableReason == nil
      && ["/lib/systemd/system/nfs-ganesha.service", "/usr/lib/systemd/system/nfs-ganesha.service"].contains(where: Files.exists)
      && Files.exists("/etc/ganesha") ? "/etc/ganesha/ganesha.conf" : nil
  }
}
