import ArgumentParser
import Dispatch
import Foundation
import PiSwarmCore
import PiSwarmServe
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

struct Serve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The rack in a browser: a tile per node, live, with power and drain actions behind a login.",
    discussion: """
      Serves on 127.0.0.1 and the head's cluster address (head.address) at port 8090, unless \
      --listen says where. Nodes are watched in the background over their SSH masters (one \
      session per node, a sample every --interval seconds), never while a page waits; pages \
      update live (server-sent events). /metrics is for Prometheus; /api/status is the JSON of \
      'piswarm status --json'.

      Actions (power on/off/cycle, drain, activate) need a login: the token in serve-token in \
      the state directory (made 0600 at the first start), or a one-time link from --login-url. \
      Each action is confirmed, CSRF-checked and journaled; --read-only serves no actions.

      Examples:
        piswarm serve
        piswarm serve --listen 127.0.0.1:9000 --read-only
        piswarm serve --login-url     # a link that logs in once, within 10 minutes
        curl -s localhost:8090/metrics | grep piswarm_node_up
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var remote: RemoteOptions

  @Option(help: "ADDR:PORT to listen on; repeat for more (default: 127.0.0.1 and the head's address, port 8090).")
  var listen: [String] = []

  @Option(help: "Seconds between samples of each node.")
  var interval: Double = 2

  @Flag(help: "Serve no actions: pages, events, metrics and status only.")
  var readOnly = false

  @Flag(help: "Print a one-time login URL (good for 10 minutes) and exit.")
  var loginURL = false

  static let defaultPort = 8090

  func validate() throws {
    for value in listen where Self.address(value) == nil {
      throw ValidationError("--listen \(value): give an IPv4 address and a port, e.g. 127.0.0.1:8090")
    }
    guard (0.5...300).contains(interval) else { throw ValidationError("--interval must be 0.5 to 300 seconds") }
  }

  static func address(_ value: String) -> (host: String, port: Int)? {
    let parts = value.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let ip = IPv4Address(String(parts[0])), let port = Int(parts[1]), (1...65535).contains(port) else {
      return nil
    }
    return (ip.description, port)
  }

  func run() throws {
    try reporting {
      if loginURL {
        let token = try Access.token(stateDirectory: global.stateDirectory)
        let (host, port) = listen.first.flatMap(Self.address) ?? ("127.0.0.1", Self.defaultPort)
        Console.out("http://\(host):\(port)/login?code=\(Access.oneTimeCode(token: token))\n")
        return
      }
      let cluster = try global.loadCluster(printWarnings: false).cluster
      let transport = remote.transport(cluster, global: global)
      try transport.prepare()
      let token = try Access.token(stateDirectory: global.stateDirectory)
      var addresses = listen.compactMap(Self.address)
      if addresses.isEmpty {
        addresses = [("127.0.0.1", Self.defaultPort)]
        let head = cluster.head.address.address.description
        if LocalAddresses.holds(head) {
          addresses.append((head, Self.defaultPort))
        } else {
          Console.err("the head's address \(head) is not on this machine: serving on 127.0.0.1 only")
        }
      }
      let wiring = ServeWiring(cluster: cluster, global: global, remote: remote, transport: transport)
      let watcher = Watcher(nodes: cluster.nodes, transport: transport, interval: interval, probes: wiring.probes())
      let app = ServeApp(
        cluster: cluster, watcher: watcher, access: Access(token: token), readOnly: readOnly, effects: wiring.effects())
      watcher.start()
      // Beside the server's own handlers: the event streams end at once on SIGINT or SIGTERM.
      let signals = [SIGINT, SIGTERM].map { number in
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { app.closing.set() }
        source.resume()
        return source
      }
      defer { signals.forEach { $0.cancel() } }
      Console.err(
        "serving \(cluster.name) on "
          + addresses.map { "http://\($0.host):\($0.port)/" }.joined(separator: " and ")
          + (readOnly ? " (read-only)" : "; 'piswarm serve --login-url' prints a login link"))
      let failure = Mutex<String?>(nil)
      let done = DispatchSemaphore(value: 0)
      let listen = addresses
      Task {
        do { try await app.run(listen: listen) } catch { failure.withLock { $0 = "\(error)" } }
        done.signal()
      }
      done.wait()
      watcher.stopAndWait()
      if let message = failure.withLock({ $0 }) {
        throw PiSwarmError(
          .system, "serve stopped: \(message)", advice: "is another server on that address? choose one with --listen")
      }
    }
  }
}
