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
/// address came, 64 on bad arguments, 1 on other errors.
struct Arguments {
  var interface = "eth0"
  var mac: MACAddress?
  var model = "pi4"
  var serial: UInt32?
  var revision: UInt32?
  var timeout = 2.0
  var collect = 1.5
  /// The EEPROM's TFTP_FILE_TIMEOUT: a file not complete by then fails the boot.
  var fileTimeout = 30.0
  /// Power on at this Unix time (a storm's boards start together).
  var startAt: Double?
  var hash = true
  var files: [String] = []

  static let usage = """
    usage: pi-bootrom [--interface IF] [--mac MAC] [--model pi3|pi4|pi5] [--serial HEX8] [--revision HEX]
                      [--timeout SECONDS] [--collect SECONDS] [--file-timeout SECONDS]
                      [--start-at UNIXTIME] [--no-hash] [FILE...]
    Without files, reads the model's boot sequence as its ROM and firmware do (pi4: a size check
    of SERIAL/start4.elf, then config.txt, start4.elf, fixup4.dat, the dtb, cmdline.txt,
    kernel8.img, initramfs8 from SERIAL/ when that folder exists; pi5: SERIAL/config.txt,
    pieeprom.sig, bcm2712-rpi-5-b.dtb, cmdline.txt, kernel_2712.img, initramfs_2712; pi3:
    bootcode.bin first, 512-byte blocks). --timeout: silence before a packet is sent again;
    --file-timeout: a file's deadline (TFTP_FILE_TIMEOUT, 30 s).
    """

  init(_ words: [String]) throws {
    var rest = words[...]
    func value(_ flag: String) throws -> String {
      guard let next = rest.popFirst() else { throw BootROMError("\(flag) needs a value") }
      return next
    }
    while let word = rest.popFirst() {
      switch word {
      case "--interface": interface = try value(word)
      case "--mac":
        let text = try value(word)
        guard let parsed = MACAddress(text) else { throw BootROMError("--mac \"\(text)\" is not a MAC address") }
        mac = parsed
      case "--model":
        model = try value(word)
        guard ["pi3", "pi4", "pi5"].contains(model) else { throw BootROMError("--model \"\(model)\" is not pi3, pi4 or pi5") }
      case "--serial":
        let text = try value(word)
        guard text.count <= 16, let parsed = UInt64(text, radix: 16) else {
          throw BootROMError("--serial \"\(text)\" is not hex")
        }
        serial = UInt32(truncatingIfNeeded: parsed)
      case "--revision":
        let text = try value(word)
        guard let parsed = UInt32(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16) else {
          throw BootROMError("--revision \"\(text)\" is not hex")
        }
        revision = parsed
      case "--timeout": timeout = Double(try value(word)) ?? timeout
      case "--collect": collect = Double(try value(word)) ?? collect
      case "--file-timeout": fileTimeout = Double(try value(word)) ?? fileTimeout
      case "--start-at":
        let text = try value(word)
        guard let at = Double(text) else { throw BootROMError("--start-at \"\(text)\" is not a Unix time") }
        startAt = at
      case "--no-hash": hash = false
      case "-h", "--help":
        print(Self.usage)
        exit(0)
      default:
        if word.hasPrefix("-") { throw BootROMError("unknown option \(word)") }
        files.append(word)
      }
    }
  }
}
