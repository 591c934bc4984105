import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A stub dockerd: a Unix socket server answering canned responses by request line, recording
/// what it was sent. One request per connection, as the client sends them. Released, it closes
/// its socket (its accept thread then ends) and its folder goes with it.
final class StubDocker: Sendable {
  /// What the accept thread needs; it never holds the stub itself.
  final class Shared: Sendable {
    let requests = Mutex<[String]>([])
    let responses: [String: (Int, [String: String], String)]
    init(_ responses: [String: (Int, [String: String], String)]) { self.responses = responses }
  }

  let path: String
  let fd: Int32
  let folder: TemporaryDirectory
  let shared: Shared

  /// The requests received so far.
  func sent() -> [String] { shared.requests.withLock { $0 } }

  init(_ responses: [String: (Int, [String: String], String)]) {
    folder = TemporaryDirectory("piswarm-stub")
    path = folder.file("docker.sock")
    shared = Shared(responses)
    fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
    }
    _ = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    listen(fd, 16)
    let server = fd
    let shared = self.shared
    Thread {
      while true {
        let client = accept(server, nil, nil)
        if client < 0 { return }
        StubDocker.serve(client, shared)
      }
    }.start()
  }

  static func serve(_ client: Int32, _ shared: Shared) {
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = read(client, &buffer, buffer.count)
      if count <= 0 { break }
      data += buffer[0..<count]
      let text = String(decoding: data, as: UTF8.self)
      if let end = text.range(of: "\r\n\r\n") {
        let head = text[..<end.lowerBound]
        let length =
          head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
          .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        if text[end.upperBound...].utf8.count >= length { break }
      }
    }
    let request = String(decoding: data, as: UTF8.self)
    shared.requests.withLock { $0.append(request) }
    let line = request.split(separator: "\r\n").first.map(String.init) ?? ""
    let key = shared.responses.keys.first { line.hasPrefix($0) }
    let (status, headers, body) = key.flatMap { shared.responses[$0] } ?? (404, [:], "{\"message\":\"page not found\"}")
    var response = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\n"
    for (name, value) in headers { response += "\(name): \(value)\r\n" }
    // Bodies go chunked, as dockerd sends many of its answers.
    response += "Transfer-Encoding: chunked\r\n\r\n"
    let bytes = Array(body.utf8)
    var offset = 0
    while offset < bytes.count {
      let size = min(7, bytes.count - offset)
      response += String(size, radix: 16) + "\r\n" + String(decoding: bytes[offset..<offset + size], as: UTF8.self) + "\r\n"
      offset += size
    }
    response += "0\r\n\r\n"
    _ = response.withCString { write(client, $0, strlen($0)) }
    close(client)
  }

  deinit {
    shutdown(fd, Int32(SHUT_RDWR))
    close(fd)
  }
}

@Suite struct DockerClientTests {
  static let info = """
    {"ID":"E1","Name":"node01","ServerVersion":"20.10.24","Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"],["Supports d_type","true"]],
     "DockerRootDir":"/var/lib/docker","Architecture":"aarch64","Swarm":{"LocalNodeState":"active","NodeID":"N1","NodeAddr":"10.0.0.1",
     "ControlAvailable":true,"Cluster":{"ID":"C1"},"RemoteManagers":[{"NodeID":"N1","Addr":"10.0.0.1:2377"}]},"Extra":{"ignored":true}}
    """

  @Test func negotiatesTheVersionAndReadsInfo() throws {
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/info ": (200, [:], Self.info),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    #expect(client.version == "1.41")
    let info = try client.info()
    #expect(info.Name == "node01")
    #expect(info.backingFilesystem == "extfs")
    #expect(info.Swarm.Cluster?.ID == "C1")
    #expect(stub.sent().allSatisfy { $0.contains("Host: docker\r\n") })
  }

  @Test(arguments: [("1.41", "1.41"), ("1.44", "1.44"), ("1.99", "1.51"), ("2.1", "1.51"), ("junk", "1.40")])
  func versionIsCappedAtTheNewestKnown(announced: String, expected: String) {
    #expect(DockerClient.negotiated(announced) == expected)
  }

  @Test func errorsKeepTheDaemonsMessageAndNeverTheBody() throws {
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "POST /v1.41/swarm/join ": (503, [:], "{\"message\":\"This node is already part of a swarm.\"}"),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    #expect {
      try client.swarmJoin(advertiseAddress: "10.0.0.2", managers: ["10.0.0.1"], token: "SWMTKN-1-secret")
    } throws: { error in
      let text = "\(error)"
      return text.contains("HTTP 503") && text.contains("This node is already part of a swarm.") && !text.contains("SWMTKN")
    }
    let sent = stub.sent().last ?? ""
    #expect(sent.contains("\"JoinToken\":\"SWMTKN-1-secret\""))
    #expect(sent.contains("\"AdvertiseAddr\":\"10.0.0.2:2377\""))
  }

  /// Callers decide on dockerd's answer by its type and status, not by the error's text.
  @Test func aFailedCallsCauseIsDockerdsTypedAnswer() throws {
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "POST /v1.41/nodes/N2/update?version=7 ": (
        500, [:], "{\"message\":\"rpc error: code = Unknown desc = update out of sequence\"}"
      ),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    let node = try JSONDecoder().decode(
      SwarmNode.self,
      from: Data(
        """
        {"ID":"N2","Version":{"Index":7},"Spec":{"Role":"worker","Availability":"active"},"Status":{"State":"ready"}}
        """.utf8))
    do {
      try client.updateNode(node, spec: node.Spec)
      Issue.record("the update was refused")
    } catch {
      let answer = try #require(error.cause as? DockerAPIError)
      #expect(answer.status == 500)
      #expect(answer.isOutOfSequence)
    }
    #expect(!DockerAPIError(status: 503, message: "This node is already part of a swarm.").isOutOfSequence)
  }

  @Test func rotatesTokensWithTheSwarmsVersionAndWholeSpec() throws {
    let swarm = """
      {"ID":"C1","Version":{"Index":42},"Spec":{"Name":"default","Raft":{"SnapshotInterval":10000},"Labels":{}},"JoinTokens":{"Worker":"W","Manager":"M"}}
      """
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/swarm ": (200, [:], swarm),
      "POST /v1.41/swarm/update?version=42&rotateWorkerToken=true&rotateManagerToken=true ": (200, [:], ""),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    try client.rotateJoinTokens()
    let update = stub.sent().last ?? ""
    #expect(update.hasPrefix("POST /v1.41/swarm/update?version=42&rotateWorkerToken=true&rotateManagerToken=true "))
    #expect(update.contains("\"SnapshotInterval\":10000"))
  }

  @Test func nodeUpdateWritesTheWholeSpecAtItsVersion() throws {
    let nodes = """
      [{"ID":"N2","Version":{"Index":7},"Spec":{"Labels":{"keep":"me"},"Role":"worker","Availability":"active"},
        "Description":{"Hostname":"node02"},"Status":{"State":"ready","Addr":"10.0.0.2"}}]
      """
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/nodes ": (200, [:], nodes),
      "POST /v1.41/nodes/N2/update?version=7 ": (200, [:], ""),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    let node = try #require(try client.nodes().first)
    var spec = node.Spec
    spec.Labels?["rack"] = "a"
    try client.updateNode(node, spec: spec)
    let sent = stub.sent().last ?? ""
    #expect(sent.contains("\"keep\":\"me\""))
    #expect(sent.contains("\"rack\":\"a\""))
    #expect(sent.contains("\"Availability\":\"active\""))
  }

  @Test func aDeadSocketIsAClearError() {
    let client = DockerClient(transport: UnixSocketTransport(path: "/nonexistent/docker.sock"))
    var copy = client
    #expect(throws: PiSwarmError.self) { try copy.negotiate() }
  }
}

@Suite struct HTTPTests {
  @Test func rendersRequests() {
    let get = String(decoding: HTTP.Request("GET", "/v1.41/info").bytes, as: UTF8.self)
    #expect(get == "GET /v1.41/info HTTP/1.1\r\nHost: docker\r\nUser-Agent: piswarm\r\nConnection: close\r\n\r\n")
    let post = String(decoding: HTTP.Request("POST", "/x", body: Data("{}".utf8)).bytes, as: UTF8.self)
    #expect(post.hasSuffix("Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
  }

  @Test func parsesLengthChunkedAndUnterminatedBodies() throws {
    let plain = try #require(HTTP.parse(Data("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\nOKextra".utf8)))
    #expect(plain.status == 200)
    #expect(plain.body == Data("OK".utf8))
    #expect(plain.headers["api-version"] == "1.41")
    let chunked = try #require(
      HTTP.parse(Data("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n".utf8)))
    #expect(chunked.body == Data("abcde".utf8))
    #expect(HTTP.parse(Data("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort".utf8)) == nil)
    #expect(HTTP.parse(Data("garbage".utf8)) == nil)
  }

  @Test func jsonValuesRoundTrip() throws {
    let text = #"{"a":[1,2.5,"x",true,null],"b":{"c":42}}"#
    let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    let again = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(value))
    #expect(value == again)
    #expect(value["b"]?["c"] == .number(42))
  }
}

@Suite struct NodeUpdateRetryTests {
  @Test func anUpdateOutOfSequenceIsReadAgainAndRetried() throws {
    let node = { (version: Int) in
      """
      {"ID":"N2","Version":{"Index":\(version)},"Spec":{"Labels":{"keep":"me"},"Role":"worker","Availability":"active"},"Status":{"State":"ready","Addr":"10.0.0.2"}}
      """
    }
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/nodes/N2 ": (200, [:], node(8)),
      "POST /v1.41/nodes/N2/update?version=8 ": (200, [:], ""),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    try client.updateNode("N2") { $0.Labels?["rack"] = "a" }
    let sent = stub.sent()
    #expect(
      sent.contains {
        $0.hasPrefix("POST /v1.41/nodes/N2/update?version=8 ") && $0.contains("\"rack\":\"a\"") && $0.contains("\"keep\":\"me\"")
      })
  }

  @Test func nothingToChangeWritesNothing() throws {
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/nodes/N2 ": (
        200, [:],
        #"{"ID":"N2","Version":{"Index":3},"Spec":{"Labels":{"rack":"a"},"Role":"worker","Availability":"active"},"Status":{"State":"ready"}}"#
      ),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    try client.updateNode("N2") { $0.Labels?["rack"] = "a" }
    #expect(!stub.sent().contains { $0.hasPrefix("POST") })
  }
}

/// Scaling a service for a spread: the whole spec goes back at its version with only the
/// replicas changed, and a service someone else scaled meanwhile is left alone.
@Suite struct ServiceScaleTests {
  static let service = """
    {"ID":"S1","Version":{"Index":31},"Spec":{"Name":"web","Labels":{"keep":"me"},"Mode":{"Replicated":{"Replicas":2}},"TaskTemplate":{"ContainerSpec":{"Image":"piswarm/base:latest","Args":["sleep","100000"]},"Placement":{"Constraints":["node.role==worker"]}},"UpdateConfig":{"Parallelism":1,"Delay":5000000000}}}
    """

  @Test func scalingWritesTheWholeSpecAtItsVersion() throws {
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/services/S1 ": (200, [:], Self.service),
      "POST /v1.41/services/S1/update?version=31 ": (200, [:], #"{"Warnings":null}"#),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    #expect(try client.scaleService("S1", from: 2, to: 3))
    let sent = try #require(stub.sent().last { $0.hasPrefix("POST") })
    #expect(sent.hasPrefix("POST /v1.41/services/S1/update?version=31 "))
    let head = try #require(sent.range(of: "\r\n\r\n"))
    let body = try #require(JSONValue.parse(String(sent[head.upperBound...])))
    #expect(body["Mode"]?["Replicated"]?["Replicas"] == .number(3))
    #expect(body["Labels"]?["keep"] == .string("me"))
    #expect(body["UpdateConfig"]?["Delay"] == .number(5_000_000_000))
    #expect(body["TaskTemplate"]?["Placement"]?["Constraints"] == .array([.string("node.role==worker")]))
    // The body is the spec, not the service around it.
    #expect(body["Version"] == nil && body["ID"] == nil)
  }

  @Test func aServiceScaledMeanwhileIsLeftAlone() throws {
    let stub = StubDocker([
      "GET /_ping ": (200, ["Api-Version": "1.41"], "OK"),
      "GET /v1.41/services/S1 ": (200, [:], Self.service),
    ])
    var client = DockerClient(transport: UnixSocketTransport(path: stub.path))
    try client.negotiate()
    #expect(try client.scaleService("S1", from: 3, to: 2) == false)
    #expect(!stub.sent().contains { $0.hasPrefix("POST") })
  }
}
