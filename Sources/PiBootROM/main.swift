import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The interface's MAC in this network namespace (/sys would show the host's interfaces under
/// nsenter --net).
func interfaceMAC(_ name: String) -> MACAddress? {
  guard let output = try? ipCommand(["-o", "link", "show", "dev", name]) else { return nil }
  let words = output.split(separator: " ")
  guard let index = words.firstIndex(of: "link/ether"), index + 1 < words.count else { return nil }
  return MACAddress(words[index + 1])
}

func emit(_ report: Report, status: Int32) -> Never {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  if let data = try? encoder.encode(report) { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
  if let error = report.error { FileHandle.standardError.write(Data("pi-bootrom: \(error)\n".utf8)) }
  exit(status)
}

/// Runs `ip` (iproute2) through piswarm's own process primitive (posix_spawn and waitpid), not
/// Foundation's Process, whose wait never returned under a parent that blocks SIGCHLD.
@discardableResult
func ipCommand(_ arguments: [String]) throws -> String {
  guard
    let path = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: {
      FileManager.default.isExecutableFile(atPath: $0)
    })
  else {
    throw BootROMError("ip (iproute2) is not installed")
  }
  let output = try Command(path, arguments, timeout: 20).run()
  guard output.status == 0 else { throw BootROMError("ip \(arguments.joined(separator: " ")) failed: \(output.stderrText)") }
  return output.stdoutText
}

let arguments: Arguments
do { arguments = try Arguments(Array(CommandLine.arguments.dropFirst())) } catch {
  FileHandle.standardError.write(Data("pi-bootrom: \(error)\n\(Arguments.usage)\n".utf8))
  exit(64)
}
guard let mac = arguments.mac ?? interfaceMAC(arguments.interface) else {
  FileHandle.standardError.write(Data("pi-bootrom: no MAC: give --mac, or an interface that exists\n".utf8))
  exit(64)
}
let serial = arguments.serial ?? DHCPMessage.get32([0] + mac.bytes.suffix(3), 0)
let serialText = PiClientID(marker: "RPi4", revision: 0, macLow: [], serial: serial).serialText
var report = Report(mac: mac.description, model: arguments.model, serial: serialText)

// Power on: now, or at --start-at (every board of a storm at the same moment).
if let startAt = arguments.startAt {
  let wait = startAt - Date().timeIntervalSince1970
  if wait > 0 { usleep(UInt32(min(wait, 3600) * 1_000_000)) }
}
let poweredOn = Date().timeIntervalSince1970
func sincePowerOn() -> Double { ((Date().timeIntervalSince1970 - poweredOn) * 1000).rounded() / 1000 }
report.poweredOn = poweredOn

// DISCOVER, as the ROM sends it.
let xid = UInt32.random(in: 1...UInt32.max)
var options: [(UInt8, [UInt8])] = [
  (53, [1]), (60, Array(BootEvent.piVendorClass.utf8)), (93, [0, 0]), (94, [1, 2, 1]),
  (55, [1, 3, 43, 54, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135]),
]
if arguments.model != "pi3" {
  let marker = arguments.model == "pi5" ? "RPi5" : "RPi4"
  let revision = arguments.revision ?? (arguments.model == "pi5" ? 0x00C0_4170 : 0x00C0_3111)
  options.append((97, PiClientID(marker: marker, revision: revision, macLow: Array(mac.bytes.suffix(4)), serial: serial).bytes))
}
let dhcp: UDPSocket
do { dhcp = try UDPSocket(interface: arguments.interface, address: nil, port: 68, broadcast: true) } catch {
  report.error = "\(error)"
  emit(report, status: 1)
}
let broadcast = IPv4Address(0xFFFF_FFFF)
var offers: [(DHCPMessage, IPv4Address)] = []
for attempt in 0..<3
where offers.isEmpty
  || !offers.contains(where: { PXEMenu.items($0.0.option(43) ?? []).contains { $0.hasPrefix("Raspberry Pi Boot") } })
{
  do { try dhcp.send(DHCPMessage(xid: xid, chaddr: mac.bytes, options: options).bytes, to: broadcast, port: 67) } catch {
    report.error = "\(error)"
    emit(report, status: 1)
  }
  let deadline = Deadline(in: arguments.collect * Double(attempt + 1))
  while let (packet, from, _) = dhcp.receive(until: deadline) {
    guard let message = DHCPMessage(packet), message.op == 2, message.xid == xid, message.type == 2 else { continue }
    offers.append((message, from))
    // Enough once the Pi menu and an address are both on offer (one offer or two).
    let menu = offers.contains { PXEMenu.items($0.0.option(43) ?? []).contains { $0.hasPrefix("Raspberry Pi Boot") } }
    if menu && offers.contains(where: { $0.0.yiaddr.value != 0 }) { break }
  }
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
guard let boot = offers.first(where: { PXEMenu.items($0.0.option(43) ?? []).contains { $0.hasPrefix("Raspberry Pi Boot") } })?.0
else {
  report.error = offers.isEmpty ? "no DHCP offer" : "no offer carried the \"Raspberry Pi Boot\" PXE menu (option 43)"
  emit(report, status: 2)
}
let bootServer =
  boot.option(66).flatMap { IPv4Address(String(decoding: $0, as: UTF8.self)) }
  ?? (boot.siaddr.value != 0 ? boot.siaddr : nil) ?? boot.address(54)
guard let bootServer else {
  report.error = "the Pi menu offer names no boot server (option 66, siaddr, option 54)"
  emit(report, status: 2)
}
report.bootServer = bootServer.description

// An address: REQUEST from the server that offered one.
guard let leaseOffer = offers.first(where: { $0.0.yiaddr.value != 0 })?.0, let leaseServer = leaseOffer.address(54) else {
  report.error = "no offer carried an address"
  emit(report, status: 2)
}
var request = options
request[0] = (53, [3])
request.append((50, withUnsafeBytes(of: leaseOffer.yiaddr.value.bigEndian) { Array($0) }))
request.append((54, withUnsafeBytes(of: leaseServer.value.bigEndian) { Array($0) }))
var acked: DHCPMessage?
for _ in 0..<3 where acked == nil {
  try? dhcp.send(DHCPMessage(xid: xid, chaddr: mac.bytes, options: request).bytes, to: broadcast, port: 67)
  let deadline = Deadline(in: arguments.timeout)
  while let (packet, _, _) = dhcp.receive(until: deadline) {
    guard let message = DHCPMessage(packet), message.op == 2, message.xid == xid else { continue }
    if message.type == 5 && message.yiaddr == leaseOffer.yiaddr {
      acked = message
      break
    }
    if message.type == 6 {
      report.error = "DHCPNAK from \(leaseServer)"
      emit(report, status: 2)
    }
  }
}
guard let acked else {
  report.error = "no DHCPACK for \(leaseOffer.yiaddr) from \(leaseServer)"
  emit(report, status: 2)
}
let mask = acked.address(1) ?? leaseOffer.address(1) ?? IPv4Address(0xFFFF_FF00)
let prefix = mask.value.nonzeroBitCount
do { try ipCommand(["addr", "replace", "\(acked.yiaddr)/\(prefix)", "dev", arguments.interface]) } catch {
  report.error = "\(error)"
  emit(report, status: 1)
}
report.address = acked.yiaddr.description
report.dhcpSeconds = sincePowerOn()

// TFTP.
let sequence = BootSequence.of(model: arguments.model)
func fetch(_ name: String, kind: BootSequence.Kind = .required, sizeOnly: Bool = false) -> (FileResult, Bool) {
  let began = Date()
  let request = TFTP.Request(
    name: name, server: bootServer, interface: arguments.interface, local: acked.yiaddr, packetTimeout: arguments.timeout,
    deadline: Deadline(in: arguments.fileTimeout), blockSize: sequence.blockSize, sizeOnly: sizeOnly, hash: arguments.hash,
    keepText: name.hasSuffix("cmdline.txt") || name.hasSuffix("config.txt") || name.hasSuffix("pieeprom.sig"))
  var result: FileResult
  var found = false
  switch TFTP.read(request) {
  case .ok(let bytes, let sha256, let text):
    result = FileResult(name: name, status: sizeOnly ? "exists" : "ok", bytes: bytes, sha256: sha256, content: text)
    found = true
  case .notFound(let message):
    result = FileResult(name: name, status: "not found", content: message.isEmpty ? nil : message)
  case .failed(let message):
    result = FileResult(name: name, status: "error: \(message)")
  }
  result.kind = kind.rawValue
  result.seconds = (Date().timeIntervalSince(began) * 1000).rounded() / 1000
  result.at = sincePowerOn()
  return (result, found)
}
if !arguments.files.isEmpty {
  for name in arguments.files { report.files.append(fetch(name).0) }
} else {
  // The ROM's order; a required file that does not arrive ends the boot, as on a real board.
  var folder = ""
  var booted = true
  for step in sequence.steps where booted {
    switch step.kind {
    case .probe:
      let (probed, found) = fetch(serialText + "/" + step.name, kind: .probe, sizeOnly: true)
      report.files.append(probed)
      folder = found ? serialText + "/" : ""
    case .probeRead:
      let (probed, found) = fetch(serialText + "/" + step.name, kind: .probe)
      report.files.append(probed)
      folder = found ? serialText + "/" : ""
      if !found {
        let (read, ok) = fetch(step.name)
        report.files.append(read)
        booted = ok
      }
    case .check:
      report.files.append(fetch(folder + step.name, kind: .check, sizeOnly: true).0)
    case .selfUpdate:
      let (checked, exists) = fetch(folder + step.name, kind: .check, sizeOnly: true)
      report.files.append(checked)
      if exists {
        report.files.append(fetch(folder + "pieeprom.sig", kind: .selfUpdate).0)
        report.files.append(fetch(folder + "pieeprom.upd", kind: .selfUpdate).0)
      }
    case .optional, .required:
      if sequence.checksFirst {
        let (checked, exists) = fetch(folder + step.name, kind: .check, sizeOnly: true)
        report.files.append(checked)
        if !exists {
          booted = booted && step.kind == .optional
          continue
        }
      }
      let (read, ok) = fetch(folder + step.name, kind: step.kind)
      report.files.append(read)
      if !ok && (step.kind == .required || !read.status.hasPrefix("not found")) { booted = false }
    }
  }
  report.prefix = folder
  report.booted = booted
  if booted { report.bootSeconds = sincePowerOn() }
}
emit(report, status: 0)
