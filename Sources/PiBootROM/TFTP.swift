import Foundation
import PiSwarmCore
import PiSwarmSystem

/// A TFTP read (RFC 1350, octet mode, no options) from an interface's address.
enum TFTP {
  enum Outcome {
    case ok([UInt8])
    case notFound(String)
    case failed(String)
  }

  static func read(
    _ name: String, server: IPv4Address, interface: String, local: IPv4Address, timeout: Double, retries: Int = 3
  ) -> Outcome {
    let socket: UDPSocket
    do { socket = try UDPSocket(interface: interface, address: local, port: 0, broadcast: false) } catch {
      return .failed("\(error)")
    }
    let request: [UInt8] = [0, 1] + Array(name.utf8) + [0] + Array("octet".utf8) + [0]
    var content: [UInt8] = []
    var expected: UInt16 = 1
    var peerPort: UInt16?
    var lastSent = request
    var lastPort: UInt16 = 69
    var attempts = 0
    do { try socket.send(request, to: server, port: 69) } catch { return .failed("\(error)") }
    while true {
      guard let (packet, from, port) = socket.receive(until: Deadline(in: timeout)) else {
        attempts += 1
        if attempts > retries { return .failed("timed out after \(attempts) tries waiting for block \(expected) from \(server)") }
        try? socket.send(lastSent, to: server, port: lastPort)
        continue
      }
      guard from == server, packet.count >= 4, peerPort == nil || port == peerPort else { continue }
      let opcode = UInt16(packet[0]) << 8 | UInt16(packet[1])
      let number = UInt16(packet[2]) << 8 | UInt16(packet[3])
      switch opcode {
      case 5:
        let message = String(decoding: packet.dropFirst(4).prefix { $0 != 0 }, as: UTF8.self)
        return number == 1 ? .notFound(message) : .failed("error \(number): \(message)")
      case 3:
        peerPort = port
        let ack: [UInt8] = [0, 4, packet[2], packet[3]]
        try? socket.send(ack, to: server, port: port)
        lastSent = ack
        lastPort = port
        attempts = 0
        guard number == expected else { continue }  // a duplicate: acknowledged again
        content += packet.dropFirst(4)
        if packet.count - 4 < 512 { return .ok(content) }
        expected &+= 1
      default:
        return .failed("unexpected TFTP opcode \(opcode)")
      }
    }
  }
}
