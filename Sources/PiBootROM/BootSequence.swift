/// The files a Raspberry Pi's boot ROM and firmware read over TFTP, in the order they ask, by
/// model (from captures of real boards: rpi-eeprom#74, firmware#1041, dnsmasq logs of Pi 4/5
/// netboots). A boot succeeds when every required file arrives.
public struct BootSequence: Sendable {
  public enum Kind: String, Codable, Sendable {
    /// `SERIAL/NAME`, size only: found, the rest comes from the serial folder; missing, from the
    /// root.
    case probe
    /// `SERIAL/NAME` read whole (Pi 5's config.txt): found, the rest comes from the serial
    /// folder; missing, NAME is read from the root and required.
    case probeRead
    /// Only its size is asked for (an existence check, ended with "Early terminate").
    case check
    /// Read when it exists; a missing one is no failure (initramfs, overlay map).
    case optional
    /// The boot fails without it.
    case required
    /// The bootloader's self-update (`pieeprom.sig`): its size asked for; when it exists, it and
    /// `pieeprom.upd` are read whole (a real board then flashes the update and reboots).
    case selfUpdate
  }

  public struct Step: Sendable {
    public var name: String
    public var kind: Kind
  }

  /// The ROM's TFTP options: Pi 4/5 ask for `tsize` and `blksize 1024`; the Pi 3's ROM asks for
  /// `bootcode.bin` plainly and bootcode.bin asks for `tsize` only (512-byte blocks).
  public var blockSize: Int?
  /// Whether a file read whole is first checked for (size only, then "Early terminate").
  public var checksFirst: Bool
  public var steps: [Step]

  public static func of(model: String) -> BootSequence {
    func step(_ name: String, _ kind: Kind) -> Step { Step(name: name, kind: kind) }
    switch model {
    case "pi3":
      // The ROM reads bootcode.bin (no options); bootcode.bin reads the rest.
      return BootSequence(
        blockSize: nil, checksFirst: false,
        steps: [
          step("bootcode.bin", .required), step("bootsig.bin", .check), step("start.elf", .probe),
          step("autoboot.txt", .check), step("config.txt", .required), step("recovery.elf", .check),
          step("start.elf", .required), step("fixup.dat", .required), step("bcm2710-rpi-3-b-plus.dtb", .required),
          step("overlays/overlay_map.dtb", .optional), step("cmdline.txt", .required), step("kernel8.img", .required),
          step("initramfs8", .optional),
        ])
    case "pi5":
      // No start*.elf: the EEPROM bootloader reads config.txt (from the serial folder when it
      // exists), checks for pieeprom.sig (self-update), then the device tree, the kernel.
      return BootSequence(
        blockSize: 1024, checksFirst: true,
        steps: [
          step("config.txt", .probeRead), step("pieeprom.sig", .selfUpdate), step("bcm2712-rpi-5-b.dtb", .required),
          step("overlays/overlay_map.dtb", .optional), step("cmdline.txt", .required),
          step("kernel_2712.img", .required), step("initramfs_2712", .optional),
        ])
    default:
      return BootSequence(
        blockSize: 1024, checksFirst: true,
        steps: [
          step("start4.elf", .probe), step("config.txt", .required), step("pieeprom.sig", .selfUpdate),
          step("recover4.elf", .check), step("recovery.elf", .check), step("start4.elf", .required),
          step("fixup4.dat", .required), step("bcm2711-rpi-4-b.dtb", .required),
          step("overlays/overlay_map.dtb", .optional), step("cmdline.txt", .required), step("kernel8.img", .required),
          step("initramfs8", .optional),
        ])
    }
  }
}

/// Where a board is in its boot sequence: which file it asks for next, given what the ones
/// before it found. The ROM's order as a state machine (one file at a time), so that many boards
/// can walk their sequences on one event loop.
struct BootWalk {
  struct Fetch: Equatable {
    var name: String
    var kind: BootSequence.Kind
    /// Only the size is asked for, then "Early terminate".
    var sizeOnly: Bool
  }

  let sequence: BootSequence
  /// The serial folder's name (the serial's low 8 hex digits).
  let serial: String
  /// Files named on the command line, read in order instead of the sequence.
  let files: [String]
  private var index = 0
  private var stage = 0
  /// The folder the rest is read from: `SERIAL/` once a probe found it, else the root.
  private(set) var folder = ""
  /// False once a required file did not arrive (the boot ends there, as on a real board).
  private(set) var booted = true

  init(sequence: BootSequence, serial: String, files: [String] = []) {
    self.sequence = sequence
    self.serial = serial
    self.files = files
  }

  /// The file to ask for now; nil when the walk is over.
  var current: Fetch? {
    if !files.isEmpty { return index < files.count ? Fetch(name: files[index], kind: .required, sizeOnly: false) : nil }
    guard booted, index < sequence.steps.count else { return nil }
    let step = sequence.steps[index]
    switch (step.kind, stage) {
    case (.probe, _): return Fetch(name: serial + "/" + step.name, kind: .probe, sizeOnly: true)
    case (.probeRead, 0): return Fetch(name: serial + "/" + step.name, kind: .probe, sizeOnly: false)
    case (.probeRead, _): return Fetch(name: step.name, kind: .required, sizeOnly: false)
    case (.check, _), (.selfUpdate, 0): return Fetch(name: folder + step.name, kind: .check, sizeOnly: true)
    case (.selfUpdate, 1): return Fetch(name: folder + "pieeprom.sig", kind: .selfUpdate, sizeOnly: false)
    case (.selfUpdate, _): return Fetch(name: folder + "pieeprom.upd", kind: .selfUpdate, sizeOnly: false)
    case (.optional, 0), (.required, 0):
      return sequence.checksFirst
        ? Fetch(name: folder + step.name, kind: .check, sizeOnly: true)
        : Fetch(name: folder + step.name, kind: step.kind, sizeOnly: false)
    case (.optional, _), (.required, _): return Fetch(name: folder + step.name, kind: step.kind, sizeOnly: false)
    }
  }

  /// The current file's outcome: `found` (it or its size arrived) and its status text.
  mutating func advance(found: Bool, status: String) {
    if !files.isEmpty {
      index += 1
      return
    }
    guard index < sequence.steps.count else { return }
    let step = sequence.steps[index]
    switch (step.kind, stage) {
    case (.probe, _):
      folder = found ? serial + "/" : ""
    case (.probeRead, 0):
      folder = found ? serial + "/" : ""
      if !found {
        stage = 1
        return
      }
    case (.probeRead, _):
      booted = found
    case (.check, _), (.selfUpdate, 2...):
      break
    case (.selfUpdate, _):
      if found || stage == 1 {
        stage += 1
        return
      }
    case (.optional, _), (.required, _):
      if stage == 0 && sequence.checksFirst {
        // The size check: a file that is not there is only read when it exists.
        if found {
          stage = 1
          return
        }
        booted = booted && step.kind == .optional
      } else if !found && (step.kind == .required || !status.hasPrefix("not found")) {
        booted = false
      }
    }
    index += 1
    stage = 0
  }
}
