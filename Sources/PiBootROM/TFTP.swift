import Crypto
import Foundation
import PiSwarmCore

/// A TFTP read (RFC 1350, octet mode) as the Pi firmware does it, as a state machine: on Pi 4/5
/// with the options `tsize 0 blksize 1024` (RFC 2347–2349), a size-only request ended by an ERROR
/// "Early terminate" once the server's OACK names the size, the last packet sent again after
/// `packetTimeout` of silence, and the whole file given up at `deadline` (the EEPROM's
/// TFTP_FILE_TIMEOUT). Times are seconds on one monotonic clock; datagrams come in, packets to
/// send and the outcome go out.
struct TFTPTransfer {
  enum Outcome: Equatable {
    /// The bytes (or, for a size-only read, the size the server announced), their sha256 when
    /// hashed, the text when kept.
    case ok(bytes: Int, sha256: String?, text: String?)
    case notFound(String)
    case failed(String)
  }

  /// What one datagram or one wake-up leads to: a packet to send (to the server, at `port`),
  /// and, once the transfer is over, its outcome.
  struct Step {
    var send: (bytes: [UInt8], port: UInt16)?
    var outcome: Outcome?
  }

  let server: IPv4Address
  /// Silence after which the last packet is sent again.
  let packetTimeout: Double
  /// The whole file's deadline.
  let deadline: Double
  /// Ask for the size only and end the transfer at the OACK (the firmware's existence check).
  let sizeOnly: Bool
  let hash: Bool
  let keepText: Bool
  /// The read request, sent first to port 69.
  let request: [UInt8]
  /// When `tick` is due: the end of the silence, or the deadline.
  private(set) var wakeAt: Double
  private var hasher = SHA256()
  private var text: [UInt8] = []
  private var received = 0
  private var blockSize = 512
  private var expected: UInt16 = 1
  private var peerPort: UInt16?
  private var lastSent: [UInt8]
  private var lastPort: UInt16 = 69

  /// `blockSize`: the `blksize` option to ask for; nil: no options at all (Pi 3's ROM), 512-byte
  /// blocks.
  init(
    name: String, server: IPv4Address, packetTimeout: Double, deadline: Double, blockSize: Int?, sizeOnly: Bool,
    hash: Bool, keepText: Bool, now: Double
  ) {
    var packet: [UInt8] = [0, 1] + Array(name.utf8) + [0] + Array("octet".utf8) + [0]
    if let blockSize {
      for (option, value) in [("tsize", "0"), ("blksize", String(blockSize))] {
        packet += Array(option.utf8) + [0] + Array(value.utf8) + [0]
      }
    }
    self.server = server
    self.packetTimeout = packetTimeout
    self.deadline = deadline
    self.sizeOnly = sizeOnly
    self.hash = hash
    self.keepText = keepText
    request = packet
    lastSent = packet
    wakeAt = min(now + packetTimeout, deadline)
  }

  /// A datagram on the transfer's socket. Any datagram ends the silence, as a blocking read's
  /// next wait would start then.
  mutating func receive(_ data: ArraySlice<UInt8>, from: IPv4Address, port: UInt16, now: Double) -> Step {
    wakeAt = min(now + packetTimeout, deadline)
    let count = data.count
    let base = data.startIndex
    guard from == server, count >= 2, peerPort == nil || port == peerPort else { return Step() }
    let opcode = UInt16(data[base]) << 8 | UInt16(data[base + 1])
    let number = count >= 4 ? UInt16(data[base + 2]) << 8 | UInt16(data[base + 3]) : 0
    switch opcode {
    case 5:
      let message = count > 4 ? String(decoding: data[(base + 4)...].prefix { $0 != 0 }, as: UTF8.self) : ""
      return Step(outcome: number == 1 ? .notFound(message) : .failed("error \(number): \(message)"))
    case 6:
      // OACK: the options the server took.
      guard peerPort == nil else { return Step() }
      peerPort = port
      let options = Self.parseOptions(Array(data[(base + 2)...]))
      if sizeOnly {
        return Step(
          send: (Self.earlyTerminate, port),
          outcome: .ok(bytes: options["tsize"].flatMap { Int($0) } ?? 0, sha256: nil, text: nil))
      }
      blockSize = options["blksize"].flatMap { Int($0) } ?? 512
      (lastSent, lastPort) = ([0, 4, 0, 0], port)
      return Step(send: (lastSent, port))
    case 3:
      guard count >= 4 else { return Step() }
      peerPort = port
      if sizeOnly {
        // No options (Pi 3): the first block says the file exists; the rest is not wanted.
        return Step(send: (Self.earlyTerminate, port), outcome: .ok(bytes: count - 4, sha256: nil, text: nil))
      }
      (lastSent, lastPort) = ([0, 4, data[base + 2], data[base + 3]], port)
      guard number == expected else { return Step(send: (lastSent, port)) }  // a duplicate: acknowledged again
      let payload = data[(base + 4)...]
      received += payload.count
      if hash { hasher.update(data: payload) }
      if keepText { text += payload }
      guard payload.count >= blockSize else {
        return Step(
          send: (lastSent, port),
          outcome: .ok(
            bytes: received, sha256: hash ? hasher.finalize().hexDigits : nil,
            text: keepText ? String(decoding: text, as: UTF8.self) : nil))
      }
      expected &+= 1
      return Step(send: (lastSent, port))
    default:
      return Step(outcome: .failed("unexpected TFTP opcode \(opcode)"))
    }
  }

  /// Time passed: after `packetTimeout` of silence the last packet goes again; at the deadline
  /// the file has failed.
  mutating func tick(now: Double) -> Step {
    guard now >= wakeAt else { return Step() }
    if now >= deadline {
      return Step(
        outcome: .failed(
          "timed out: the file was not complete within its deadline (\(received) bytes, waiting for block \(expected))"))
    }
    wakeAt = min(now + packetTimeout, deadline)
    return Step(send: (lastSent, lastPort))
  }

  /// The firmware's ERROR after a size check: code 0, "Early terminate".
  static let earlyTerminate: [UInt8] = [0, 5, 0, 0] + Array("Early terminate".utf8) + [0]

  /// An OACK's `name\0value\0…` pairs, names lowercased.
  static func parseOptions(_ bytes: [UInt8]) -> [String: String] {
    let words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    var options: [String: String] = [:]
    var index = 0
    while index + 1 < words.count {
      options[words[index].lowercased()] = words[index + 1]
      index += 2
    }
    return options
  }
}
