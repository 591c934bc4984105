import Foundation
import PiSwarmCore

/// How every board of a run behaves (pi-bootrom's options).
public struct BoardSettings: Sendable {
  /// Silence before a packet is sent again (`--timeout`).
  public var packetTimeout = 2.0
  /// How long the first DISCOVER collects offers (`--collect`; the n-th waits n times as long).
  public var collect = 1.5
  /// The EEPROM's TFTP_FILE_TIMEOUT: a file not complete by then fails the boot.
  public var fileTimeout = 30.0
  public var hash = true
  /// Files to read instead of the model's boot sequence.
  public var files: [String] = []

  public init() {}
}

/// One board's boot ROM as a state machine, without I/O: power on, datagrams and the passing of
/// time come in; packets to send, sockets to open, the address to configure and the end come out
/// as actions, which the event loop (`BoardLoop`) carries out. The ROM's behaviour: a DISCOVER
/// like the ROM's (option 60 PXEClient:Arch:00000:UNDI:002001, option 93 = 0, and on Pi 4/5 the
/// 17-byte option 97), offers collected until one carries the "Raspberry Pi Boot" PXE menu
/// (option 43) and one an address (three DISCOVERs at most), a REQUEST to whichever server offered
/// the address (three at most), then the boot files over TFTP from the boot server (option 66,
/// else siaddr, else option 54), one file at a time in the model's order.
public struct BoardMachine {
  public enum Socket: Sendable, Equatable {
    /// UDP 68, broadcast, bound to the board's interface.
    case dhcp
    /// The current TFTP transfer's (an ephemeral port on the board's address).
    case tftp
  }

  public enum Action: Equatable {
    /// A datagram. When one that `mustSucceed` cannot be sent, call `failed`.
    case send(Socket, [UInt8], to: IPv4Address, port: UInt16, mustSucceed: Bool)
    /// A new TFTP socket on `local` (the earlier one closed); when it cannot be made, `failed`.
    case openTFTP(local: IPv4Address)
    /// The leased address on the board's interface; then `configured`, or `failed`.
    case configure(address: IPv4Address, prefix: Int)
    /// The board is done: its report is final; close its sockets.
    case finish(status: Int32)
  }

  enum Phase { case off, discovering, requesting, configuring, transferring, done }

  public let mac: MACAddress
  public let model: String
  public let serial: UInt32
  let settings: BoardSettings
  let xid: UInt32
  let discover: [(UInt8, [UInt8])]
  public private(set) var report: Report
  /// The exit status once finished: 0 got as far as TFTP, 2 no offer with the Pi menu or no
  /// address, 1 another error.
  public private(set) var status: Int32?
  /// When `tick` is due (monotonic seconds); nil: only a datagram or an effect moves it on.
  public private(set) var wakeAt: Double?
  private(set) var phase = Phase.off
  private var attempt = 0
  private var offers: [(message: DHCPMessage, from: IPv4Address)] = []
  private var lease: DHCPMessage?
  private var leaseServer = IPv4Address(0)
  private var bootServer = IPv4Address(0)
  private var address = IPv4Address(0)
  private var poweredOn = 0.0
  private var walk: BootWalk
  private var transfer: TFTPTransfer?
  private var fetch: BootWalk.Fetch?
  private var transferBegan = 0.0

  public init(mac: MACAddress, model: String, serial: UInt32?, revision: UInt32?, settings: BoardSettings, xid: UInt32) {
    self.mac = mac
    self.model = model
    self.serial = serial ?? DHCPMessage.get32([0] + mac.bytes.suffix(3), 0)
    self.settings = settings
    self.xid = xid
    let serialText = PiClientID(marker: "RPi4", revision: 0, macLow: [], serial: self.serial).serialText
    report = Report(mac: mac.description, model: model, serial: serialText)
    var options: [(UInt8, [UInt8])] = [
      (53, [1]), (60, Array(BootEvent.piVendorClass.utf8)), (93, [0, 0]), (94, [1, 2, 1]),
      (55, [1, 3, 43, 54, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135]),
    ]
    if model != "pi3" {
      let marker = model == "pi5" ? "RPi5" : "RPi4"
      let revision = revision ?? (model == "pi5" ? 0x00C0_4170 : 0x00C0_3111)
      options.append(
        (97, PiClientID(marker: marker, revision: revision, macLow: Array(mac.bytes.suffix(4)), serial: self.serial).bytes))
    }
    discover = options
    walk = BootWalk(sequence: BootSequence.of(model: model), serial: serialText, files: settings.files)
  }

  static let broadcast = IPv4Address(0xFFFF_FFFF)

  static func hasPiMenu(_ message: DHCPMessage) -> Bool {
    PXEMenu.offersPiBoot(message.option(43) ?? [])
  }

  /// Seconds, rounded to the millisecond.
  static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

  /// Power on at `now` (monotonic seconds; `wall`: the same moment as Unix time, for the report).
  public mutating func powerOn(now: Double, wall: Double) -> [Action] {
    poweredOn = now
    report.poweredOn = wall
    phase = .discovering
    attempt = 0
    return sendDiscover(now: now)
  }

  private mutating func sendDiscover(now: Double) -> [Action] {
    wakeAt = now + settings.collect * Double(attempt + 1)
    let packet = DHCPMessage(xid: xid, chaddr: mac.bytes, options: discover).bytes
    return [.send(.dhcp, packet, to: Self.broadcast, port: 67, mustSucceed: true)]
  }

  /// A datagram on one of the board's sockets.
  public mutating func receive(
    _ socket: Socket, _ data: ArraySlice<UInt8>, from: IPv4Address, port: UInt16, now: Double
  ) -> [Action] {
    switch (phase, socket) {
    case (.discovering, .dhcp):
      guard let message = DHCPMessage(Array(data)), message.op == 2, message.xid == xid, message.type == 2 else { return [] }
      offers.append((message, from))
      // Enough once the Pi menu and an address are both on offer (one offer or two).
      guard offers.contains(where: { Self.hasPiMenu($0.message) }), offers.contains(where: { $0.message.yiaddr.value != 0 })
      else { return [] }
      return endDiscovery(now: now)
    case (.requesting, .dhcp):
      guard let message = DHCPMessage(Array(data)), message.op == 2, message.xid == xid, let lease else { return [] }
      if message.type == 5 && message.yiaddr == lease.yiaddr { return acknowledged(message, lease: lease) }
      if message.type == 6 { return finish(error: "DHCPNAK from \(leaseServer)", status: 2) }
      return []
    case (.transferring, .tftp):
      guard let step = transfer?.receive(data, from: from, port: port, now: now) else { return [] }
      return carryOn(step, now: now)
    default:
      return []
    }
  }

  /// Time passed (call when `wakeAt` has come).
  public mutating func tick(now: Double) -> [Action] {
    guard let due = wakeAt, now >= due else { return [] }
    switch phase {
    case .discovering:
      return endDiscovery(now: now)
    case .requesting:
      attempt += 1
      guard attempt < 3, let lease else {
        return finish(error: "no DHCPACK for \(lease?.yiaddr ?? IPv4Address(0)) from \(leaseServer)", status: 2)
      }
      return sendRequest(lease, now: now)
    case .transferring:
      guard let step = transfer?.tick(now: now) else { return [] }
      return carryOn(step, now: now)
    case .off, .configuring, .done:
      wakeAt = nil
      return []
    }
  }

  /// An effect failed (a socket not made, a packet that had to go not sent, the address not set).
  public mutating func failed(_ message: String, now: Double) -> [Action] {
    switch phase {
    case .transferring where transfer != nil: return fileDone(.failed(message), now: now)
    case .done: return []
    default: return finish(error: message, status: 1)
    }
  }

  /// The leased address is on the board's interface: the boot files next.
  public mutating func configured(now: Double) -> [Action] {
    guard phase == .configuring else { return [] }
    report.address = address.description
    report.dhcpSeconds = Self.rounded(now - poweredOn)
    phase = .transferring
    return nextFile(now: now)
  }

  private mutating func endDiscovery(now: Double) -> [Action] {
    if !offers.contains(where: { Self.hasPiMenu($0.message) }) && attempt < 2 {
      attempt += 1
      return sendDiscover(now: now)
    }
    for (offer, from) in offers {
      let menu = PXEMenu.items(offer.option(43) ?? [])
      report.offers.append(
        Offer(
          server: from.description, yiaddr: offer.yiaddr.description, siaddr: offer.siaddr.description,
          serverID: offer.address(54)?.description, tftpServer: offer.option(66).map { String(decoding: $0, as: UTF8.self) },
          vendorClass: offer.option(60).map { String(decoding: $0, as: UTF8.self) }, menu: menu,
          piMenu: menu.contains { $0.hasPrefix("Raspberry Pi Boot") }))
    }
    guard let boot = offers.first(where: { Self.hasPiMenu($0.message) })?.message else {
      let error = offers.isEmpty ? "no DHCP offer" : "no offer carried the \"Raspberry Pi Boot\" PXE menu (option 43)"
      return finish(error: error, status: 2)
    }
    guard
      let server = boot.option(66).flatMap({ IPv4Address(String(decoding: $0, as: UTF8.self)) })
        ?? (boot.siaddr.value != 0 ? boot.siaddr : nil) ?? boot.address(54)
    else {
      return finish(error: "the Pi menu offer names no boot server (option 66, siaddr, option 54)", status: 2)
    }
    bootServer = server
    report.bootServer = server.description
    // An address: REQUEST from the server that offered one.
    guard let offer = offers.first(where: { $0.message.yiaddr.value != 0 })?.message, let from = offer.address(54) else {
      return finish(error: "no offer carried an address", status: 2)
    }
    lease = offer
    leaseServer = from
    phase = .requesting
    attempt = 0
    return sendRequest(offer, now: now)
  }

  private mutating func sendRequest(_ offer: DHCPMessage, now: Double) -> [Action] {
    var request = discover
    request[0] = (53, [3])
    request.append((50, withUnsafeBytes(of: offer.yiaddr.value.bigEndian) { Array($0) }))
    request.append((54, withUnsafeBytes(of: leaseServer.value.bigEndian) { Array($0) }))
    wakeAt = now + settings.packetTimeout
    let packet = DHCPMessage(xid: xid, chaddr: mac.bytes, options: request).bytes
    return [.send(.dhcp, packet, to: Self.broadcast, port: 67, mustSucceed: false)]
  }

  private mutating func acknowledged(_ ack: DHCPMessage, lease: DHCPMessage) -> [Action] {
    let mask = ack.address(1) ?? lease.address(1) ?? IPv4Address(0xFFFF_FF00)
    address = ack.yiaddr
    phase = .configuring
    wakeAt = nil
    return [.configure(address: ack.yiaddr, prefix: mask.value.nonzeroBitCount)]
  }

  /// The next file of the walk, or the end of the boot.
  private mutating func nextFile(now: Double) -> [Action] {
    guard let next = walk.current else {
      transfer = nil
      if settings.files.isEmpty {
        report.prefix = walk.folder
        report.booted = walk.booted
        if walk.booted { report.bootSeconds = Self.rounded(now - poweredOn) }
      }
      return finish(error: nil, status: 0)
    }
    let name = next.name
    let started = TFTPTransfer(
      name: name, server: bootServer, packetTimeout: settings.packetTimeout, deadline: now + settings.fileTimeout,
      blockSize: walk.sequence.blockSize, sizeOnly: next.sizeOnly, hash: settings.hash,
      keepText: name.hasSuffix("cmdline.txt") || name.hasSuffix("config.txt") || name.hasSuffix("pieeprom.sig"), now: now)
    fetch = next
    transferBegan = now
    wakeAt = started.wakeAt
    transfer = started
    return [.openTFTP(local: address), .send(.tftp, started.request, to: bootServer, port: 69, mustSucceed: true)]
  }

  private mutating func carryOn(_ step: TFTPTransfer.Step, now: Double) -> [Action] {
    var actions: [Action] = []
    if let (bytes, port) = step.send { actions.append(.send(.tftp, bytes, to: bootServer, port: port, mustSucceed: false)) }
    if let outcome = step.outcome { return actions + fileDone(outcome, now: now) }
    wakeAt = transfer?.wakeAt
    return actions
  }

  private mutating func fileDone(_ outcome: TFTPTransfer.Outcome, now: Double) -> [Action] {
    guard let fetch else { return [] }
    var result: FileResult
    var found = false
    switch outcome {
    case .ok(let bytes, let sha256, let text):
      result = FileResult(name: fetch.name, status: fetch.sizeOnly ? "exists" : "ok", bytes: bytes, sha256: sha256, content: text)
      found = true
    case .notFound(let message):
      result = FileResult(name: fetch.name, status: "not found", content: message.isEmpty ? nil : message)
    case .failed(let message):
      result = FileResult(name: fetch.name, status: "error: \(message)")
    }
    result.kind = fetch.kind.rawValue
    result.seconds = Self.rounded(now - transferBegan)
    result.at = Self.rounded(now - poweredOn)
    report.files.append(result)
    walk.advance(found: found, status: result.status)
    self.fetch = nil
    transfer = nil
    return nextFile(now: now)
  }

  private mutating func finish(error: String?, status: Int32) -> [Action] {
    if let error { report.error = error }
    phase = .done
    wakeAt = nil
    self.status = status
    return [.finish(status: status)]
  }
}
