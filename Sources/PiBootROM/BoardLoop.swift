import CPiSwarmSys
import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A board to emulate: where it is cabled (a network namespace and an interface in it) and what
/// it is.
public struct BoardConfig: Sendable {
  /// The report's name (its file's, in `--out`): the namespace's name, or "board".
  public var name: String
  /// A network namespace (a name under /run/netns, or a path); nil: the process's own.
  public var namespace: String?
  public var interface: String
  /// nil: the interface's.
  public var mac: MACAddress?
  public var model: String
  /// nil: the MAC's low 3 bytes.
  public var serial: UInt32?
  public var revision: UInt32?

  public init(
    name: String, namespace: String? = nil, interface: String, mac: MACAddress? = nil, model: String, serial: UInt32? = nil,
    revision: UInt32? = nil
  ) {
    self.name = name
    self.namespace = namespace
    self.interface = interface
    self.mac = mac
    self.model = model
    self.serial = serial
    self.revision = revision
  }
}

/// Runs boards on one thread: every board a `BoardMachine`, every socket of every board in one
/// poll(2), so that one wake-up serves every socket that is ready (a storm of 100 boards as one
/// process, not 100 processes each woken for every TFTP block). A board's sockets are made inside
/// its network namespace (setns(2) on this thread, then back: a socket keeps the namespace it was
/// made in), its leased address set there too.
public enum BoardLoop {
  final class Board {
    let config: BoardConfig
    var machine: BoardMachine
    /// Its network namespace (an open file), or -1: the process's own.
    let namespace: Int32
    var dhcp: UDPSocket?
    var tftp: UDPSocket?
    var done = false

    init(config: BoardConfig, machine: BoardMachine, namespace: Int32) {
      self.config = config
      self.machine = machine
      self.namespace = namespace
    }

    deinit { if namespace >= 0 { close(namespace) } }
  }

  /// Monotonic seconds.
  static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  /// The MAC of `interface` in the current network namespace.
  public static func interfaceMAC(_ interface: String) -> MACAddress? {
    var bytes = [UInt8](repeating: 0, count: 6)
    guard piswarm_interface_mac(interface, &bytes) == 0 else { return nil }
    return MACAddress(bytes: bytes)
  }

  /// Runs `body` inside the network namespace open at `namespace` (-1: where this thread is).
  static func inside<T>(_ namespace: Int32, home: Int32, _ body: () throws -> T) throws -> T {
    guard namespace >= 0 else { return try body() }
    guard piswarm_setns_net(namespace) == 0 else {
      throw BootROMError("cannot enter the board's network namespace: \(String(cString: strerror(errno))) (run as root)")
    }
    defer {
      // Holding the file of the namespace it came from, a thread always returns; were it not
      // to, every later socket would be made in the wrong network.
      if piswarm_setns_net(home) != 0 { fatalError("cannot return to pi-bootrom's own network namespace") }
    }
    return try body()
  }

  /// Powers every board on at `startAt` (Unix time; nil: now) and runs them until each is done;
  /// `finished` gets each board's report and status as it ends (a board that cannot start:
  /// status 1, or 64 without a MAC, before the others power on).
  /// How the loop went: datagrams received, and the wake-ups (poll(2) calls that found a socket
  /// ready) they took; their ratio is how many one wake-up served.
  public struct Stats: Sendable {
    public var datagrams = 0
    public var wakeUps = 0
  }

  @discardableResult
  public static func run(
    _ configs: [BoardConfig], settings: BoardSettings, startAt: Double?, finished: (BoardConfig, Report, Int32) -> Void
  ) -> Stats {
    var stats = Stats()
    let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    defer { if home >= 0 { close(home) } }
    var boards: [Board] = []
    for config in configs {
      var fd: Int32 = -1
      if let namespace = config.namespace {
        let path = namespace.contains("/") ? namespace : "/run/netns/" + namespace
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, home >= 0 else {
          var report = Report(mac: config.mac?.description ?? "", model: config.model, serial: "")
          report.error = "cannot open the network namespace \(path): \(String(cString: strerror(errno)))"
          finished(config, report, 1)
          continue
        }
      }
      let namespace = fd
      guard let mac = config.mac ?? (try? inside(namespace, home: home) { interfaceMAC(config.interface) }) else {
        if namespace >= 0 { close(namespace) }
        var report = Report(mac: "", model: config.model, serial: "")
        report.error = "no MAC: give one, or an interface that exists (\(config.interface))"
        finished(config, report, 64)
        continue
      }
      let machine = BoardMachine(
        mac: mac, model: config.model, serial: config.serial, revision: config.revision, settings: settings,
        xid: UInt32.random(in: 1...UInt32.max))
      let board = Board(config: config, machine: machine, namespace: namespace)
      do {
        board.dhcp = try inside(namespace, home: home) {
          try UDPSocket(interface: config.interface, address: nil, port: 68, broadcast: true)
        }
      } catch {
        var report = machine.report
        report.error = "\(error)"
        finished(config, report, 1)
        continue
      }
      boards.append(board)
    }

    // Power on: now, or at startAt (every board of a storm at the same moment).
    if let startAt {
      let wait = startAt - Date().timeIntervalSince1970
      if wait > 0 { usleep(UInt32(min(wait, 3600) * 1_000_000)) }
    }
    let wall = Date().timeIntervalSince1970
    let poweredOn = now()
    for board in boards {
      carryOut(board.machine.powerOn(now: poweredOn, wall: wall), on: board, home: home, finished: finished)
    }

    var buffer = [UInt8](repeating: 0, count: 65536)
    var entries: [pollfd] = []
    var owners: [(board: Board, socket: BoardMachine.Socket)] = []
    while boards.contains(where: { !$0.done }) {
      entries.removeAll(keepingCapacity: true)
      owners.removeAll(keepingCapacity: true)
      var due = Double.infinity
      for board in boards where !board.done {
        if let socket = board.dhcp {
          entries.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0))
          owners.append((board, .dhcp))
        }
        if let socket = board.tftp {
          entries.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0))
          owners.append((board, .tftp))
        }
        if let wake = board.machine.wakeAt { due = min(due, wake) }
      }
      let timeout = due.isFinite ? Int32(max(0, min(1, due - now())) * 1000 + 0.999) : 1000
      let ready = poll(&entries, nfds_t(entries.count), timeout)
      if ready > 0 {
        stats.wakeUps += 1
        for (index, entry) in entries.enumerated() where entry.revents != 0 {
          let (board, kind) = owners[index]
          // One datagram: in lock step there is rarely a second, and asking for it would cost a
          // system call that finds nothing (the next poll reports what is left). Not when the
          // socket is no longer the one polled (its transfer ended and the next one began).
          if !board.done, let socket = kind == .dhcp ? board.dhcp : board.tftp, socket.fd == entry.fd {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &peer) { pointer in
              pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(entry.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
              }
            }
            guard count >= 0 else { continue }
            stats.datagrams += 1
            let actions = board.machine.receive(
              kind, buffer[0..<count], from: IPv4Address(UInt32(bigEndian: peer.sin_addr.s_addr)),
              port: UInt16(bigEndian: peer.sin_port), now: now())
            carryOut(actions, on: board, home: home, finished: finished)
          }
        }
      }
      let time = now()
      for board in boards where !board.done {
        guard let wake = board.machine.wakeAt, wake <= time else { continue }
        carryOut(board.machine.tick(now: time), on: board, home: home, finished: finished)
      }
    }
    return stats
  }

  /// Carries out a board's actions in order; an effect that fails is reported to the machine,
  /// whose answer replaces what was left.
  static func carryOut(
    _ actions: [BoardMachine.Action], on board: Board, home: Int32, finished: (BoardConfig, Report, Int32) -> Void
  ) {
    var queue = actions[...]
    while let action = queue.popFirst() {
      var failure: String?
      switch action {
      case .send(let kind, let bytes, let to, let port, let mustSucceed):
        do {
          guard let socket = kind == .dhcp ? board.dhcp : board.tftp else { throw BootROMError("no \(kind) socket") }
          try socket.send(bytes, to: to, port: port)
        } catch {
          if mustSucceed { failure = "\(error)" }
        }
      case .openTFTP(let local):
        board.tftp = nil
        do {
          board.tftp = try inside(board.namespace, home: home) {
            try UDPSocket(interface: board.config.interface, address: local, port: 0, broadcast: false)
          }
        } catch {
          failure = "\(error)"
        }
      case .configure(let address, let prefix):
        let mask: UInt32 = prefix == 0 ? 0 : UInt32.max << (32 - prefix)
        let interface = board.config.interface
        do {
          try inside(board.namespace, home: home) {
            guard piswarm_interface_set_ipv4(interface, address.value, mask) == 0 else {
              throw BootROMError(
                "cannot set \(address)/\(prefix) on \(interface): \(String(cString: strerror(errno))) (run as root)")
            }
          }
          queue.append(contentsOf: board.machine.configured(now: now()))
        } catch {
          failure = "\(error)"
        }
      case .finish(let status):
        board.done = true
        board.dhcp = nil
        board.tftp = nil
        finished(board.config, board.machine.report, status)
      }
      if let failure { queue = board.machine.failed(failure, now: now())[...] }
    }
  }
}
