import Foundation
import PiSwarmCore

/// HTTP/1.1 as the Docker Engine API speaks it, one request per connection. Pure.
public enum HTTP {
  public struct Request: Sendable, Equatable {
    public var method: String
    public var path: String
    public var body: Data?

    public init(_ method: String, _ path: String, body: Data? = nil) {
      self.method = method
      self.path = path
      self.body = body
    }

    /// The bytes on the wire, for a connection that carries this request only: dockerd answers
    /// 400 without a Host header, and `Connection: close` makes it end the stream after the response.
    public var bytes: Data { bytes(keepAlive: false) }

    /// The bytes on the wire; with `keepAlive` the connection stays open for the next request.
    public func bytes(keepAlive: Bool) -> Data {
      var head = "\(method) \(path) HTTP/1.1\r\nHost: docker\r\nUser-Agent: piswarm\r\n"
      if !keepAlive { head += "Connection: close\r\n" }
      if let body {
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
      } else if method != "GET" && method != "HEAD" {
        head += "Content-Length: 0\r\n"
      }
      return Data((head + "\r\n").utf8) + (body ?? Data())
    }
  }

  public struct Response: Sendable, Equatable {
    public var status: Int
    /// Header names in lowercase.
    public var headers: [String: String]
    public var body: Data
  }

  /// Parses a whole response (the connection closed after it); chunked bodies are joined.
  public static func parse(_ data: Data) -> Response? {
    guard let split = data.firstRange(of: Data("\r\n\r\n".utf8)) else { return nil }
    let head = String(decoding: data[data.startIndex..<split.lowerBound], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    guard !lines.isEmpty else { return nil }
    let statusLine = lines.removeFirst().split(separator: " ")
    guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Data(data[split.upperBound...])
    if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
      guard let joined = dechunk(body) else { return nil }
      body = joined
    } else if let length = headers["content-length"].flatMap(Int.init) {
      guard body.count >= length else { return nil }
      body = body.prefix(length)
    }
    return Response(status: status, headers: headers, body: body)
  }

  /// Whether `data` holds a whole response on a kept-alive connection: its headers, and a body
  /// framed by Content-Length or chunked encoding (or none, for 1xx, 204 and 304).
  public static func isComplete(_ data: Data) -> Bool {
    guard let response = parse(data) else { return false }
    if response.status / 100 == 1 || response.status == 204 || response.status == 304 { return true }
    if response.headers["transfer-encoding"]?.lowercased().contains("chunked") == true { return true }
    return response.headers["content-length"] != nil
  }

  static func dechunk(_ data: Data) -> Data? {
    var out = Data()
    var rest = data[...]
    while true {
      guard let lineEnd = rest.firstRange(of: Data("\r\n".utf8)) else { return nil }
      let sizeText = String(decoding: rest[rest.startIndex..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
      guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
      rest = rest[lineEnd.upperBound...]
      if size == 0 { return out }
      guard rest.count >= size else { return nil }
      out += rest.prefix(size)
      rest = rest.dropFirst(size)
      if rest.starts(with: Data("\r\n".utf8)) { rest = rest.dropFirst(2) }
    }
  }
}
