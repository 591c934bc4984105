import Foundation
import PiSwarmCore
import Testing

@testable import PiBootROM

/// The boot ROM's state machine, driven by synthetic packets and a clock of the test's own (no
/// network): what the head sees (DISCOVER, REQUEST, RRQ, ACKs, "Early terminate", retransmits)
/// for each thing a server can answer.
struct BoardMachineTests {
  static let head = IPv4Address(0x0A00_0001)  // 10.0.0.1
  static let router = IPv4Address(0x0A00_00FE)
  static let leased = IPv4Address(0x0A00_0105)  // 10.0.1.5
  static let mac = MACAddress("dc:a6:32:00:00:07")!

  static func machine(model: String = "pi4", packetTimeout: Double = 1, files: [String] = []) -> BoardMachine {
    var settings = BoardSettings()
    settings.packetTimeout = packetTimeout
    settings.collect = 1
    settings.fileTimeout = 30
    settings.hash = false
    settings.files = files
    return BoardMachine(mac: mac, model: model, serial: 0x4a00_0007, revision: nil, settings: settings, xid: 0x1234)
  }

  /// A server's DHCP reply of `type` (2 offer, 5 ack, 6 nak), with the Pi menu or not.
  static func reply(_ type: UInt8, yiaddr: IPv4Address, menu: Bool, server: IPv4Address = head, xid: UInt32 = 0x1234) -> [UInt8] {
    var options: [(UInt8, [UInt8])] = [
      (53, [type]), (54, withUnsafeBytes(of: server.value.bigEndian) { Array($0) }), (1, [255, 255, 252, 0]),
    ]
    if menu {
      let text = Array("Raspberry Pi Boot   ".utf8)
      options.append((43, [9, UInt8(3 + text.count), 0, 0, UInt8(text.count)] + text + [255]))
      options.append((60, Array("PXEClient".utf8)))
    }
    var message = DHCPMessage(xid: xid, chaddr: mac.bytes, options: options)
    message.op = 2
    message.yiaddr = yiaddr
    return message.bytes
  }

  static func sent(_ actions: [BoardMachine.Action]) -> [(socket: BoardMachine.Socket, bytes: [UInt8], port: UInt16)] {
    actions.compactMap {
      if case .send(let socket, let bytes, _, let port, _) = $0 { return (socket, bytes, port) }
      return nil
    }
  }

  static func finished(_ actions: [BoardMachine.Action]) -> Int32? {
    for action in actions {
      if case .finish(let status) = action { return status }
    }
    return nil
  }

  /// The name a TFTP read request asks for.
  static func requested(_ actions: [BoardMachine.Action]) -> String? {
    sent(actions).first { $0.bytes.starts(with: [0, 1]) }.map {
      String(decoding: $0.bytes.dropFirst(2).prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  /// A machine past DHCP, its first TFTP request made; the actions of that request.
  static func booting(model: String = "pi4", files: [String] = []) -> (BoardMachine, [BoardMachine.Action]) {
    var board = machine(model: model, files: files)
    _ = board.powerOn(now: 0, wall: 1_000_000)
    _ = board.receive(.dhcp, reply(2, yiaddr: leased, menu: true)[...], from: head, port: 67, now: 0.1)
    let configure = board.receive(.dhcp, reply(5, yiaddr: leased, menu: true)[...], from: head, port: 67, now: 0.2)
    #expect(configure == [.configure(address: leased, prefix: 22)])
    let first = board.configured(now: 0.3)
    return (board, first)
  }

  static func data(_ block: UInt16, _ count: Int) -> ArraySlice<UInt8> {
    let header: [UInt8] = [0, 3, UInt8(block >> 8), UInt8(block & 0xFF)]
    return (header + [UInt8](repeating: 0x41, count: count))[...]
  }

  static func oack(_ options: [(String, String)]) -> ArraySlice<UInt8> {
    var packet: [UInt8] = [0, 6]
    for (name, value) in options {
      packet += Array(name.utf8) + [0]
      packet += Array(value.utf8) + [0]
    }
    return packet[...]
  }

  @Test func anOfferWithoutThePiMenuIsAskedForAgainThenTheBoardGivesUp() {
    var board = Self.machine()
    let first = board.powerOn(now: 0, wall: 1_000_000)
    let discover = Self.sent(first)
    #expect(discover.count == 1 && discover[0].socket == .dhcp && discover[0].port == 67)
    let message = DHCPMessage(discover[0].bytes)
    #expect(message?.type == 1 && message?.option(60) == Array(BootEvent.piVendorClass.utf8))
    #expect(message?.option(97)?.count == 17, "a Pi 4 sends option 97")
    // A router's plain offer: kept, but not enough.
    #expect(
      board.receive(
        .dhcp, Self.reply(2, yiaddr: Self.leased, menu: false, server: Self.router)[...], from: Self.router, port: 67, now: 0.2
      ).isEmpty)
    // Another board's transaction is not this one's.
    #expect(
      board.receive(.dhcp, Self.reply(2, yiaddr: Self.leased, menu: true, xid: 9)[...], from: Self.head, port: 67, now: 0.3)
        .isEmpty)
    #expect(board.wakeAt == 1)
    #expect(board.tick(now: 0.5).isEmpty, "not due yet")
    // Two more DISCOVERs, each collecting longer (2 s, 3 s), then the end.
    #expect(Self.sent(board.tick(now: 1)).map { DHCPMessage($0.bytes)?.type } == [1])
    #expect(board.wakeAt == 3)
    #expect(Self.sent(board.tick(now: 3)).map { DHCPMessage($0.bytes)?.type } == [1])
    #expect(board.wakeAt == 6)
    #expect(Self.finished(board.tick(now: 6)) == 2)
    #expect(board.report.error == "no offer carried the \"Raspberry Pi Boot\" PXE menu (option 43)")
    #expect(board.report.offers.map(\.piMenu) == [false])
  }

  @Test func noOfferAtAllIsNoOffer() {
    var board = Self.machine(model: "pi3")
    #expect(DHCPMessage(Self.sent(board.powerOn(now: 0, wall: 0))[0].bytes)?.option(97) == nil, "a Pi 3 sends no option 97")
    _ = board.tick(now: 1)
    _ = board.tick(now: 3)
    #expect(Self.finished(board.tick(now: 6)) == 2)
    #expect(board.report.error == "no DHCP offer")
  }

  @Test func aNAKEndsTheBoot() {
    var board = Self.machine()
    _ = board.powerOn(now: 0, wall: 0)
    let request = Self.sent(
      board.receive(.dhcp, Self.reply(2, yiaddr: Self.leased, menu: true)[...], from: Self.head, port: 67, now: 0.1))
    let message = DHCPMessage(request.first?.bytes ?? [])
    #expect(message?.type == 3 && message?.address(50) == Self.leased && message?.address(54) == Self.head)
    #expect(board.report.bootServer == "10.0.0.1")
    #expect(
      Self.finished(
        board.receive(.dhcp, Self.reply(6, yiaddr: IPv4Address(0), menu: false)[...], from: Self.head, port: 67, now: 0.2)) == 2)
    #expect(board.report.error == "DHCPNAK from 10.0.0.1")
  }

  @Test func aREQUESTWithoutAnswerIsSentThreeTimes() {
    var board = Self.machine()
    _ = board.powerOn(now: 0, wall: 0)
    _ = board.receive(.dhcp, Self.reply(2, yiaddr: Self.leased, menu: true)[...], from: Self.head, port: 67, now: 0)
    #expect(DHCPMessage(Self.sent(board.tick(now: 1))[0].bytes)?.type == 3)
    #expect(DHCPMessage(Self.sent(board.tick(now: 2))[0].bytes)?.type == 3)
    #expect(Self.finished(board.tick(now: 3)) == 2)
    #expect(board.report.error == "no DHCPACK for 10.0.1.5 from 10.0.0.1")
  }

  @Test func theSizeCheckEndsAtTheOACKWithEarlyTerminate() {
    var (board, first) = Self.booting()
    #expect(first.first == .openTFTP(local: Self.leased))
    #expect(board.report.address == "10.0.1.5" && board.report.dhcpSeconds == 0.3)
    let request = Self.sent(first)
    #expect(request.count == 1 && request[0].port == 69)
    #expect(request[0].bytes == [0, 1] + Array("4a000007/start4.elf\0octet\0tsize\00\0blksize\01024\0".utf8))
    // The server answers from a port of its own; the size is all the ROM wanted.
    let next = board.receive(
      .tftp, Self.oack([("tsize", "2260000"), ("blksize", "1024")]), from: Self.head, port: 40000, now: 0.5)
    let early = Self.sent(next).first
    #expect(early?.bytes == TFTPTransfer.earlyTerminate && early?.port == 40000)
    #expect(board.report.files.last?.status == "exists" && board.report.files.last?.bytes == 2_260_000)
    #expect(board.report.files.last?.kind == "probe" && board.report.files.last?.seconds == 0.2)
    // Found: the rest comes from the serial folder, on a new socket.
    #expect(next.contains(.openTFTP(local: Self.leased)))
    #expect(Self.requested(next) == "4a000007/config.txt")
  }

  @Test func aDuplicateBlockIsAcknowledgedAgainAndCountedOnce() {
    var (board, _) = Self.booting(files: ["kernel8.img"])
    let port: UInt16 = 40001
    #expect(
      Self.sent(board.receive(.tftp, Self.oack([("blksize", "1024"), ("tsize", "1034")]), from: Self.head, port: port, now: 1))
        .map(\.bytes) == [[0, 4, 0, 0]])
    #expect(
      Self.sent(board.receive(.tftp, Self.data(1, 1024), from: Self.head, port: port, now: 1.1)).map(\.bytes) == [[0, 4, 0, 1]])
    // The same block again (our ACK was lost): ACKed again, not counted.
    #expect(
      Self.sent(board.receive(.tftp, Self.data(1, 1024), from: Self.head, port: port, now: 1.2)).map(\.bytes) == [[0, 4, 0, 1]])
    // A stranger's packet (another port) changes nothing.
    #expect(board.receive(.tftp, Self.data(2, 10), from: Self.head, port: 5555, now: 1.25).isEmpty)
    let last = board.receive(.tftp, Self.data(2, 10), from: Self.head, port: port, now: 1.3)
    #expect(Self.sent(last).map(\.bytes) == [[0, 4, 0, 2]])
    #expect(Self.finished(last) == 0, "the only file named: the end")
    #expect(board.report.files.map(\.status) == ["ok"] && board.report.files.first?.bytes == 1034)
    #expect(board.report.booted == nil, "named files are no boot")
  }

  @Test func notFoundOfTheSerialFolderReadsFromTheRoot() {
    var (board, _) = Self.booting()
    let error: ArraySlice<UInt8> = ([0, 5, 0, 1] + Array("file not found".utf8) + [0])[...]
    let next = board.receive(.tftp, error, from: Self.head, port: 40002, now: 0.4)
    #expect(board.report.files.first?.status == "not found" && board.report.files.first?.content == "file not found")
    #expect(Self.requested(next) == "config.txt")
  }

  @Test func aRequiredFileNotFoundEndsTheBootUnbooted() {
    var (board, _) = Self.booting()
    let notFound: ArraySlice<UInt8> = ([0, 5, 0, 1] + Array("not found".utf8) + [0])[...]
    _ = board.receive(.tftp, notFound, from: Self.head, port: 1, now: 0.4)  // SERIAL/start4.elf
    let end = board.receive(.tftp, notFound, from: Self.head, port: 2, now: 0.5)  // config.txt, required
    #expect(Self.finished(end) == 0)
    #expect(board.report.booted == false && board.report.bootSeconds == nil)
    #expect(board.report.files.map(\.name) == ["4a000007/start4.elf", "config.txt"])
  }

  @Test func silenceSendsTheLastPacketAgainAndTheDeadlineFailsTheFile() {
    var (board, first) = Self.booting(model: "pi3")
    #expect(Self.requested(first) == "bootcode.bin")
    #expect(Self.sent(first)[0].bytes == [0, 1] + Array("bootcode.bin\0octet\0".utf8), "the Pi 3's ROM asks without options")
    #expect(board.wakeAt == 1.3)
    // Silence: the request again, to port 69.
    let again = Self.sent(board.tick(now: 1.3))
    #expect(again.map(\.bytes) == Self.sent(first).map(\.bytes) && again.first?.port == 69)
    // A block (512 bytes, no options): ACKed; then silence: the ACK again, to the server's port.
    #expect(
      Self.sent(board.receive(.tftp, Self.data(1, 512), from: Self.head, port: 40003, now: 2)).map(\.bytes) == [[0, 4, 0, 1]])
    #expect(board.wakeAt == 3)
    let ack = Self.sent(board.tick(now: 3))
    #expect(ack.map(\.bytes) == [[0, 4, 0, 1]] && ack.first?.port == 40003)
    // Nothing more until the file's 30 s are up: it has failed, and bootcode.bin is required.
    var now = 3.0
    var end: [BoardMachine.Action] = []
    while Self.finished(end) == nil && now < 40 {
      now = board.wakeAt ?? 40
      end = board.tick(now: now)
    }
    #expect(abs(now - 30.3) < 1e-9)
    #expect(Self.finished(end) == 0)
    let file = board.report.files.first
    #expect(file?.status == "error: timed out: the file was not complete within its deadline (512 bytes, waiting for block 2)")
    #expect(file?.seconds == 30 && board.report.booted == false)
  }

  @Test func aSocketThatCannotBeMadeFailsThatFileOnly() {
    var (board, _) = Self.booting(files: ["a.txt", "b.txt"])
    let next = board.failed("cannot open a UDP socket", now: 0.4)
    #expect(board.report.files.first?.status == "error: cannot open a UDP socket")
    #expect(Self.requested(next) == "b.txt")
  }

  @Test func aPi5WalksItsSequence() {
    var (board, first) = Self.booting(model: "pi5")
    #expect(Self.requested(first) == "4a000007/config.txt")
    var port: UInt16 = 100
    _ = board.receive(.tftp, Self.oack([("tsize", "5")]), from: Self.head, port: port, now: 1)
    var actions = board.receive(.tftp, Self.data(1, 5), from: Self.head, port: port, now: 1)
    let notFound: ArraySlice<UInt8> = ([0, 5, 0, 1] + Array("x".utf8) + [0])[...]
    var names = [Self.requested(first), Self.requested(actions)]
    // pieeprom.sig: not there; every other file: its size, then the whole of it.
    while Self.finished(actions) == nil && names.count < 40 {
      port += 1
      let name = names.last.flatMap { $0 } ?? ""
      if name.hasSuffix("pieeprom.sig") || name.hasSuffix("overlay_map.dtb") {
        actions = board.receive(.tftp, notFound, from: Self.head, port: port, now: 2)
      } else {
        actions = board.receive(.tftp, Self.oack([("tsize", "3"), ("blksize", "1024")]), from: Self.head, port: port, now: 2)
        if Self.requested(actions) == nil && Self.finished(actions) == nil {
          actions = board.receive(.tftp, Self.data(1, 3), from: Self.head, port: port, now: 2)
        }
      }
      if let next = Self.requested(actions) { names.append(next) }
    }
    #expect(
      names == [
        "4a000007/config.txt", "4a000007/pieeprom.sig", "4a000007/bcm2712-rpi-5-b.dtb", "4a000007/bcm2712-rpi-5-b.dtb",
        "4a000007/overlays/overlay_map.dtb", "4a000007/cmdline.txt", "4a000007/cmdline.txt", "4a000007/kernel_2712.img",
        "4a000007/kernel_2712.img", "4a000007/initramfs_2712", "4a000007/initramfs_2712",
      ])
    #expect(board.report.booted == true && board.report.prefix == "4a000007/" && board.report.bootSeconds == 2)
    #expect(board.report.files.first { $0.name.hasSuffix("cmdline.txt") && $0.status == "ok" }?.content == "AAA")
  }

  @Test func aBoardsFileNamesEachBoard() throws {
    let boards = try Arguments.boards(
      """
      # a storm
      pstorm-1 eth0 pi3 - b8:27:eb:00:00:01
      /run/netns/pstorm-2 eth0 pi4 4a000002   # by serial
      """)
    #expect(boards.map(\.name) == ["pstorm-1", "pstorm-2"])
    #expect(boards[0].mac?.description == "b8:27:eb:00:00:01" && boards[0].serial == nil && boards[0].model == "pi3")
    #expect(boards[1].namespace == "/run/netns/pstorm-2" && boards[1].serial == 0x4a00_0002 && boards[1].mac == nil)
    #expect(throws: BootROMError.self) { try Arguments.boards("pstorm-3 eth0 pi9") }
    #expect(throws: BootROMError.self) { try Arguments.boards("a eth0 pi4\na eth0 pi5") }
    #expect(throws: BootROMError.self) { try Arguments(["--boards", "x"]) }
  }
}
