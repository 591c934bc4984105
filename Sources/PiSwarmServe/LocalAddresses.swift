#if canImport(Glibc)
  import Glibc
#endif

/// The IPv4 addresses of this machine's interfaces.
public enum LocalAddresses {
  public static func holds(_ address: String) -> Bool { all().contains(address) }

  public static func all() -> Set<String> {
    var first: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&first) == 0 else { return [] }
    defer { freeifaddrs(first) }
    var found: Set<String> = []
    var next = first
    while let entry = next {
      defer { next = entry.pointee.ifa_next }
      guard let socket = entry.pointee.ifa_addr, socket.pointee.sa_family == sa_family_t(AF_INET) else { continue }
      var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
      socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
        var address = inet.pointee.sin_addr
        _ = inet_ntop(AF_INET, &address, &text, socklen_t(INET_ADDRSTRLEN))
      }
      found.insert(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return found
  }
}
