import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// Small network probes: is a daemon answering yet.
public enum Probes {
  /// `GET path` over a Unix socket (Docker's API wants a Host header); returns the status code
  /// and body, or nil when nothing answers within `timeout` seconds.
  public static func unixHTTPGet(socket: String, path: String, timeout: Double = 2) -> (status: Int, body: String)? {
    let request = "GET \(path) HTTP/1.0\r\nHost: docker\r\n\r\n"
    guard let response = unixExchange(socket: socket, request: Data(request.utf8), timeout: timeout) else { return nil }
    let text = String(decoding: response, as: UTF8.self)
    guard text.hasPrefix("HTTP/"), let code = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (code, body)
  }

  /// Writes `request` to a Unix stream socket and reads until the peer closes.
  public static func unixExchange(socket: String, request: Data, timeout: Double) -> Data? {
    guard let fd = unixConnect(socket, timeout: timeout) else { return nil }
    defer { close(fd) }
    guard writeAll(fd, Array(request)) else { return nil }
    return Data(readAll(fd, limit: 64 << 20))
  }

  /// Writes `request` to a Unix stream socket, then reads lines until `done(lines)` holds, the
  /// peer closes or `timeout` seconds pass between two reads. Nil when nothing listens.
  public static func unixLines(
    socket: String, request: Data, timeout: Double, until done: ([String]) -> Bool
  ) -> [String]? {
    guard let fd = unixConnect(socket, timeout: timeout) else { return nil }
    defer { close(fd) }
    guard writeAll(fd, Array(request)) else { return nil }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    var lines: [String] = []
    while received.count < 1 << 20 {
      let count = read(fd, &buffer, buffer.count)
      if count <= 0 { break }
      received += buffer[0..<count]
      // Split on the byte: "\r\n" is one Character, which a String split on "\n" would miss.
      lines = received.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
      if received.last == UInt8(ascii: "\n"), done(lines) { break }
    }
    return lines
  }

  static func unixConnect(_ socket: String, timeout: Double) -> Int32? {
    Signals.ignoreBrokenPipes()
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    setTimeouts(fd, timeout)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(socket.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      close(fd)
      return nil
    }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (index, byte) in bytes.enumerated() { buffer[index] = byte }
    }
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else {
      close(fd)
      return nil
    }
    return fd
  }

  /// The first line a TCP server sends (an SSH banner), or nil.
  public static func tcpBanner(host: IPv4Address, port: UInt16, timeout: Double = 2) -> String? {
    Signals.ignoreBrokenPipes()
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    setTimeouts(fd, timeout)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = host.value.bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\r\n").first.map(String.init)
  }

  static func setTimeouts(_ fd: Int32, _ seconds: Double) {
    var time = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
  }

  static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if written <= 0 { return false }
      offset += written
    }
    return true
  }

  static func readAll(_ fd: Int32, limit: Int) -> [UInt8] {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while result.count < limit {
      let count = read(fd, &buffer, buffer.count)
      if count <= 0 { break }
      result += buffer[0..<count]
    }
    return result
  }
}
