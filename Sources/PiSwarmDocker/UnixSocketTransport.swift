import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// dockerd on a Unix socket (the local daemon, or a stub server in tests).
public struct UnixSocketTransport: DockerTransport {
  public let path: String

  public init(path: String) { self.path = path }

  public var endpoint: String { "unix://\(path)" }

  public func exchange(_ request: HTTP.Request) throws(PiSwarmError) -> Data {
    guard let data = Probes.unixExchange(socket: path, request: request.bytes, timeout: 60) else {
      throw PiSwarmError(.system, "cannot reach dockerd at \(path)", advice: "is dockerd running?")
    }
    return data
  }
}
