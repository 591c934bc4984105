import Crypto
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// pi-bootrom: behaves like a Raspberry Pi boot ROM on the network, for tests. Run it inside a
/// network namespace (`nsenter --net=/run/netns/X pi-bootrom …`), as root. It sends a DHCP
/// DISCOVER like the ROM's (option 60 PXEClient:Arch:00000:UNDI:002001, option 93 = 0, and on
/// Pi 4/5 the 17-byte option 97), collects offers, requires the "Raspberry Pi Boot" PXE menu
/// (option 43), takes an address (REQUEST/ACK from whichever server offered one), then reads
/// boot files over TFTP from the boot server (option 66, else siaddr, else option 54). Prints
/// JSON on stdout. Exit 0 when it got as far as TFTP, 2 when no offer carried the Pi menu or no
/// address came, 64 on bad arguments, 1 on other errors. With `--boards FILE --out DIR`, many
/// boards in one process (one thread, one event loop), each in its own network namespace, each
/// report in DIR/NAME.json; the exit status is the worst board's (1, then 2, then 0).
public struct Arguments {
  public var interface = "eth0"
  public var mac: MACAddress?
  public var model = "pi4"
  public var serial: UInt32?
  public var revision: UInt32?
  public var settings = BoardSettings()
  /// Power on at this Unix time (a storm's boards start together).
  public var startAt: Double?
  /// A file with one board a line (`--boards`), and the folder for their reports (`--out`).
  public var boards: String?
  public var out: String?

  public static let usage = """
    usage: pi-bootrom [--interface IF] [--mac MAC] [--model pi3|pi4|pi5] [--serial HEX8] [--revision HEX]
                      [--timeout SECONDS] [--collect SECONDS] [--file-timeout SECONDS]
                      [--start-at UNIXTIME] [--no-hash] [FILE...]
           pi-bootrom --boards FILE --out DIR [--timeout …] [--collect …] [--file-timeout …] [--start-at …] [--no-hash]
    Without files, reads the model's boot sequence as its ROM and firmware do (pi4: a size check
    of SERIAL/start4.elf, then config.txt, start4.elf, fixup4.dat, the dtb, cmdline.txt,
    kernel8.img, initramfs8 from SERIAL/ when that folder exists; pi5: SERIAL/config.txt,
    pieeprom.sig, bcm2712-rpi-5-b.dtb, cmdline.txt, kernel_2712.img, initramfs_2712; pi3:
    bootcode.bin first, 512-byte blocks). --timeout: silence before a packet is sent again;
    --file-timeout: a file's deadline (TFTP_FILE_TIMEOUT, 30 s).
    --boards: many boards in this one process, one a line: NETNS INTERFACE MODEL [SERIAL|- [MAC|-]]
    (NETNS a name under /run/netns or a path; '#' starts a comment); each board's report goes
    to DIR/NAME.json (NAME: the namespace's last path component). For example:
      pstorm-1 eth0 pi3 - b8:27:eb:00:00:01
      pstorm-2 eth0 pi4 4a000002
    """

  public init(_ words: [String]) throws {
    var rest = words[...]
    func value(_ flag: String) throws -> String {
      guard let next = rest.popFirst() else { throw BootROMError("\(flag) needs a value") }
      return next
    }
    func seconds(_ flag: String) throws -> Double {
      let text = try value(flag)
      guard let seconds = Double(text), seconds >= 0 else { throw BootROMError("\(flag) \"\(text)\" is not a number of seconds") }
      return seconds
    }
    while let word = rest.popFirst() {
      switch word {
      case "--interface": interface = try value(word)
      case "--mac":
        let text = try value(word)
        guard let parsed = MACAddress(text) else { throw BootROMError("--mac \"\(text)\" is not a MAC address") }
        mac = parsed
      case "--model": model = try Self.model(try value(word))
      case "--serial": serial = try Self.serial(try value(word))
      case "--revision":
        let text = try value(word)
        guard let parsed = UInt32(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16) else {
          throw BootROMError("--revision \"\(text)\" is not hex")
        }
        revision = parsed
      case "--timeout": settings.packetTimeout = try seconds(word)
      case "--collect": settings.collect = try seconds(word)
      case "--file-timeout": settings.fileTimeout = try seconds(word)
      case "--start-at":
        let text = try value(word)
        guard let at = Double(text) else { throw BootROMError("--start-at \"\(text)\" is not a Unix time") }
        startAt = at
      case "--no-hash": settings.hash = false
      case "--boards": boards = try value(word)
      case "--out": out = try value(word)
      case "-h", "--help":
        print(Self.usage)
        exit(0)
      default:
        if word.hasPrefix("-") { throw BootROMError("unknown option \(word)") }
        settings.files.append(word)
      }
    }
    if (boards == nil) != (out == nil) { throw BootROMError("--boards and --out go together") }
  }

  static func model(_ text: String) throws -> String {
    guard ["pi3", "pi4", "pi5"].contains(text) else { throw BootROMError("model \"\(text)\" is not pi3, pi4 or pi5") }
    return text
  }

  static func serial(_ text: String) throws -> UInt32 {
    guard text.count <= 16, let parsed = UInt64(text, radix: 16) else { throw BootROMError("serial \"\(text)\" is not hex") }
    return UInt32(truncatingIfNeeded: parsed)
  }

  /// A `--boards` file's boards: `NETNS INTERFACE MODEL [SERIAL|- [MAC|-]]` a line.
  public static func boards(_ text: String) throws -> [BoardConfig] {
    var boards: [BoardConfig] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let words = line.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      guard !words.isEmpty else { continue }
      do {
        guard (3...5).contains(words.count) else { throw BootROMError("wants NETNS INTERFACE MODEL [SERIAL|- [MAC|-]]") }
        var board = BoardConfig(
          name: String(words[0].split(separator: "/").last ?? "board"), namespace: words[0], interface: words[1],
          model: try model(words[2]))
        if words.count > 3 && words[3] != "-" { board.serial = try serial(words[3]) }
        if words.count > 4 && words[4] != "-" {
          guard let mac = MACAddress(words[4]) else { throw BootROMError("\"\(words[4])\" is not a MAC address") }
          board.mac = mac
        }
        guard !boards.contains(where: { $0.name == board.name }) else { throw BootROMError("\(board.name) is there twice") }
        boards.append(board)
      } catch {
        throw BootROMError("boards line \(number + 1): \(error)")
      }
    }
    return boards
  }
}
