import Foundation
import PiBootROM
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

// pi-bootrom: a Raspberry Pi boot ROM on the network, for tests (see Arguments in PiBootROM).
// One board: its report on stdout. Many (`--boards FILE --out DIR`): one event loop, a report
// file per board.

let arguments: Arguments
do { arguments = try Arguments(Array(CommandLine.arguments.dropFirst())) } catch {
  FileHandle.standardError.write(Data("pi-bootrom: \(error)\n\(Arguments.usage)\n".utf8))
  exit(64)
}

if let list = arguments.boards, let out = arguments.out {
  let boards: [BoardConfig]
  do {
    boards = try Arguments.boards(try String(contentsOfFile: list, encoding: .utf8))
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
  } catch {
    FileHandle.standardError.write(Data("pi-bootrom: \(error)\n".utf8))
    exit(64)
  }
  var worst: Int32 = 0
  let started = Date()
  let stats = BoardLoop.run(boards, settings: arguments.settings, startAt: arguments.startAt) { board, report, status in
    let path = out + "/" + board.name + ".json"
    do { _ = try AtomicFile.write(report.json, to: path) } catch {
      FileHandle.standardError.write(Data("pi-bootrom: \(board.name): cannot write \(path): \(error)\n".utf8))
      worst = 1
    }
    if let error = report.error { FileHandle.standardError.write(Data("pi-bootrom: \(board.name): \(error)\n".utf8)) }
    // The worst: 1 (or 64), then 2, then 0.
    if status != 0 && (worst == 0 || worst == 2) { worst = status }
  }
  let perWakeUp = stats.wakeUps == 0 ? 0 : Double(stats.datagrams) / Double(stats.wakeUps)
  FileHandle.standardError.write(
    Data(
      String(
        format: "pi-bootrom: %d boards, %d datagrams in %d wake-ups (%.1f each), %.1f s\n", boards.count, stats.datagrams,
        stats.wakeUps, perWakeUp, Date().timeIntervalSince(started)
      ).utf8))
  exit(worst)
}

guard let mac = arguments.mac ?? BoardLoop.interfaceMAC(arguments.interface) else {
  FileHandle.standardError.write(Data("pi-bootrom: no MAC: give --mac, or an interface that exists\n".utf8))
  exit(64)
}
let board = BoardConfig(
  name: "board", interface: arguments.interface, mac: mac, model: arguments.model, serial: arguments.serial,
  revision: arguments.revision)
var exitStatus: Int32 = 1
BoardLoop.run([board], settings: arguments.settings, startAt: arguments.startAt) { _, report, status in
  FileHandle.standardOutput.write(report.json)
  if let error = report.error { FileHandle.standardError.write(Data("pi-bootrom: \(error)\n".utf8)) }
  exitStatus = status
}
exit(exitStatus)
