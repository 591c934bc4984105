/// The files a Raspberry Pi's boot ROM and firmware read over TFTP, in the order they ask, by
/// model (from captures of real boards: rpi-eeprom#74, firmware#1041, dnsmasq logs of Pi 4/5
/// netboots). A boot succeeds when every required file arrives.
struct BootSequence {
  enum Kind: String, Codable {
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

  struct Step {
    var name: String
    var kind: Kind
  }

  /// The ROM's TFTP options: Pi 4/5 ask for `tsize` and `blksize 1024`; the Pi 3's ROM asks for
  /// `bootcode.bin` plainly and bootcode.bin asks for `tsize` only (512-byte blocks).
  var blockSize: Int?
  /// Whether a file read whole is first checked for (size only, then "Early terminate").
  var checksFirst: Bool
  var steps: [Step]

  static func of(model: String) -> BootSequence {
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
