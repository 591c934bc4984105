import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A UDP socket, bound to an interface, with polled receives (pi-bootrom's DHCP and TFTP,
/// `doctor`'s DHCP probe).
public final class UDPSocket {
  public let fd: Int32
  /// The last datagram received (`receive` returns its length); one buffer for the socket's life.
  public private(set) var buffer = [UInt8](repeating: 0, count: 65536)

  public init(interface: String, address: IPv4Address?, port: UInt16, broadcast: Bool) throws(PiSwarmError) {
    fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw PiSwarmError(.system, "cannot open a UDP socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    if broadcast { setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, socklen_t(MemoryLayout<Int32>.size)) }
    let bound = interface.withCString { name in
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
    }
    guard bound == 0 else {
      close(fd)
      throw PiSwarmError(.system, "cannot bind to interface \(interface): \(String(cString: strerror(errno))) (run as root)")
    }
    var local = Self.address(address ?? IPv4Address(0), port)
    let result = withUnsafePointer(to: &local) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
      close(fd)
      throw PiSwarmError(.system, "cannot bind UDP port \(port) on \(interface): \(String(cString: strerror(errno)))")
    }
  }

  deinit { close(fd) }

  public static func address(_ ip: IPv4Address, _ port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = ip.value.bigEndian
    return address
  }

  public func send(_ bytes: [UInt8], to ip: IPv4Address, port: UInt16) throws(PiSwarmError) {
    var target = Self.address(ip, port)
    let sent = withUnsafePointer(to: &target) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard sent == bytes.count else {
      throw PiSwarmError(.system, "cannot send to \(ip):\(port): \(String(cString: strerror(errno)))")
    }
  }

  /// The next datagram and its sender, or nil at the deadline.
  public func receive(until deadline: Deadline) -> (bytes: [UInt8], from: IPv4Address, port: UInt16)? {
    guard let (count, from, port) = receiveInPlace(until: deadline) else { return nil }
    return (Array(buffer[0..<count]), from, port)
  }

  /// The next datagram's length (its bytes in `buffer`) and sender, or nil at the deadline.
  public func receiveInPlace(until deadline: Deadline) -> (count: Int, from: IPv4Address, port: UInt16)? {
    while true {
      guard !deadline.hasPassed else { return nil }
      var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&entry, 1, deadline.pollTimeout())
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { continue }
      var peer = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let count = withUnsafeMutablePointer(to: &peer) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
      }
      guard count >= 0 else { continue }
      return (count, IPv4Address(UInt32(bigEndian: peer.sin_addr.s_addr)), UInt16(bigEndian: peer.sin_port))
    }
  }
}
