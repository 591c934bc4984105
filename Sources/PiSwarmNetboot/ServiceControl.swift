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
  /// Runs the cluster file's `head.nfs_reload` (argument list, the program first) with
  /// `environment` added to piswarm's.
  func runReloadCommand(_ argv: [String], environment: [String: String]) throws(PiSwarmError)
}

extension ServiceControl {
  public func isActive(_ service: String) -> Bool { false }
  public func enable(_ service: String) throws(PiSwarmError) {}
  public func disable(_ service: String) throws(PiSwarmError) {}
  public func stop(_ service: String) throws(PiSwarmError) {}

  public func runReloadCommand(_ argv: [String], environment: [String: String]) throws(PiSwarmError) {
    guard let program = argv.first else { return }
    let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    try Command(program, Array(argv.dropFirst()), environment: merged, timeout: 120).check()
  }
}
