import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Restarting a service after its configuration changed.
public protocol ServiceControl: Sendable {
  /// Nil when services can be restarted here; else why not.
  var unavailableReason: String? { get }
  func restart(_ service: String) throws(PiSwarmError)
  /// Where a kernel NFS server (nfs-kernel-server) reads extra exports, when one is installed.
  var kernelExportsFile: String? { get }
  /// Makes the kernel NFS server read its exports again (`exportfs -ra`).
  func reloadExports() throws(PiSwarmError)
  /// nfs-ganesha's main configuration file, when ganesha is installed as a service here.
  var ganeshaMainConfig: String? { get }
  /// Whether `service` runs (systemd: active).
  func isActive(_ service: String) -> Bool
  /// Makes the service manager read its units again and start `service` at boot.
  func enable(_ service: String) throws(PiSwarmError)
  /// Stops `service` and keeps it from starting at boot.
  func disable(_ service: String) throws(PiSwarmError)
  /// Stops `service` for now.
  func stop(_ service: String) throws(PiSwarmError)
}

extension ServiceControl {
  public func isActive(_ service: String) -> Bool { false }
  public func enable(_ service: String) throws(PiSwarmError) {}
  public func disable(_ service: String) throws(PiSwarmError) {}
  public func stop(_ service: String) throws(PiSwarmError) {}
}
