import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// Carries one HTTP exchange to a dockerd: over SSH (`docker system dial-stdio`) or a Unix socket.
public protocol DockerTransport: Sendable {
  /// Sends the request and returns the daemon's whole response.
  func exchange(_ request: HTTP.Request) throws(PiSwarmError) -> Data
  /// For messages: which daemon this is.
  var endpoint: String { get }
}
