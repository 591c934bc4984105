import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem

/// A TFTP read (RFC 1350, octet mode) as the Pi firmware does it: on Pi 4/5 with the options
/// `tsize 0 blksize 1024` (RFC 2347–2349), a size-only request ended by an ERROR "Early
/// terminate" once the server's OACK names the size, retransmits after `packetTimeout` of
/// silence, and the whole file given up at `deadline` (the EEPROM's TFTP_FILE_TIMEOUT).
enum TFTP {
  enum Outcome {
    /// The bytes (or, for a size-only read, the size the server announced), their sha256 when
    /// hashed, the text when kept.
    case ok(bytes: Int, sha256: String?, text: String?)
    case notFound(String)
    case failed(String)
  }

  struct Request {
    var name: String
    var server: IPv4Address
    var interface: String
    var local: IPv4Address
    /// Silence after which the last packet is sent again.
    var packetTimeout: Double
    /// The whole file's deadline.
    var deadline: Deadline
    /// The `blksize` option to ask for; nil: no options at all (Pi 3's ROM), 512-byte blocks.
    var blockSize: Int?
    /// Ask for the size only and end the transfer at the OACK (the firmware's existence check).
    var sizeOnly = false
    var hash = true
    var keepText = false
  }

  static func read(_ request: Request) -> Outcome {
    let socket: UDPSocket
    do { socket = try UDPSocket(interface: request.interface, address: request.local, port: 0, broadcast: false) } catch {
      return .failed("\(error)")
    }
    var packet: [UInt8] = [0, 1] + Array(request.name.utf8) + [0] + Array("octet".utf8) + [0]
    if let blockSize = request.blockSize {
      for (option, value) in [("tsize", "0"), ("blksize", String(blockSize))] {
        packet += Array(option.utf8) + [0] + Array(value.utf8) + [0]
      }
    }
    var hasher = SHA256()
    var text: [UInt8] = []
    var received = 0
    var blockSize = 512
    var expected: UInt16 = 1
    var peerPort: UInt16?
    var lastSent = packet
    var lastPort: UInt16 = 69
    do { try socket.send(packet, to: request.server, port: 69) } catch { return .failed("\(error)") }
    while true {
      let wait = Deadline(in: min(request.packetTimeout, request.deadline.secondsLeft))
      guard let (count, from, port) = socket.receiveInPlace(until: wait) else {
        if request.deadline.hasPassed {
          return .failed(
            "timed out: the file was not complete within its deadline (\(received) bytes, waiting for block \(expected))")
        }
        try? socket.send(lastSent, to: request.server, port: lastPort)
        continue
      }
      let data = socket.buffer
      guard from == request.server, count >= 2, peerPort == nil || port == peerPort else { continue }
      let opcode = UInt16(data[0]) << 8 | UInt16(data[1])
      let number = count >= 4 ? UInt16(data[2]) << 8 | UInt16(data[3]) : 0
      switch opcode {
      case 5:
        let message = String(decoding: data[4..<count].prefix { $0 != 0 }, as: UTF8.self)
        return number == 1 ? .notFound(message) : .failed("error \(number): \(message)")
      case 6:
        // OACK: the options the server took.
        guard peerPort == nil else { continue }
        peerPort = port
        let options = parseOptions(Array(data[2..<count]))
        if request.sizeOnly {
          try? socket.send(earlyTerminate, to: request.server, port: port)
          return .ok(bytes: options["tsize"].flatMap { Int($0) } ?? 0, sha256: nil, text: nil)
        }
        blockSize = options["blksize"].flatMap { Int($0) } ?? 512
        let ack: [UInt8] = [0, 4, 0, 0]
        try? socket.send(ack, to: request.server, port: port)
        (lastSent, lastPort) = (ack, port)
      case 3:
        guard count >= 4 else { continue }
        peerPort = port
        if request.sizeOnly {
          // No options (Pi 3): the first block says the file exists; the rest is not wanted.
          try? socket.send(earlyTerminate, to: request.server, port: port)
          return .ok(bytes: count - 4, sha256: nil, text: nil)
        }
        let ack: [UInt8] = [0, 4, data[2], data[3]]
        try? socket.send(ack, to: request.server, port: port)
        (lastSent, lastPort) = (ack, port)
        guard number == expected else { continue }  // a duplicate: acknowledged again
        let payload = data[4..<count]
        received += payload.count
        if request.hash { hasher.update(data: payload) }
        if request.keepText { text += payload }
        if payload.count < blockSize {
          return .ok(
            bytes: received, sha256: request.hash ? hasher.finalize().hexDigits : nil,
            text: request.keepText ? String(decoding: text, as: UTF8.self) : nil)
        }
        expected &+= 1
      default:
        return .failed("unexpected TFTP opcode \(opcode)")
      }
    }
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
