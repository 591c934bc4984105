/// A bootloader EEPROM image built from the documented layout (no Raspberry Pi binary needed):
/// 512 KiB; the read-only code section (64 KiB), `bootconf.txt` at 64 KiB followed by a padding
/// section up to 68 KiB, another file (`pubkey.bin`) at 68 KiB, then erased flash (0xff). Sections: big-endian magic and length, 8-byte aligned; a file's
/// section holds a 12-byte NUL-padded name and 4 reserved bytes before its content.
public enum TestEEPROM {
  /// Where `bootconf.txt` starts (after the read-only code) and where the file after it starts.
  public static let code = 64 * 1024
  public static let next = 68 * 1024

  public static func image(config: String = "[all]\nBOOT_UART=0\nBOOT_ORDER=0xf41\n") -> [UInt8] {
    var bytes = [UInt8](repeating: 0xff, count: 512 * 1024)
    func put(_ offset: Int, _ value: UInt32) {
      for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
    }
    func file(at offset: Int, name: String, content: [UInt8]) {
      put(offset, 0x55aa_f11f)
      put(offset + 4, UInt32(content.count + 16))
      let padded = Array(name.utf8) + [UInt8](repeating: 0, count: 12 - name.utf8.count)
      bytes.replaceSubrange((offset + 8)..<(offset + 20), with: padded)
      bytes.replaceSubrange((offset + 20)..<(offset + 24), with: [0, 0, 0, 0])
      bytes.replaceSubrange((offset + 24)..<(offset + 24 + content.count), with: content)
    }
    put(0, 0x55aa_f00f)
    put(4, UInt32(code - 8))
    for index in 8..<code { bytes[index] = UInt8(index % 251) }
    file(at: code, name: "bootconf.txt", content: Array(config.utf8))
    let pad = (code + 24 + config.utf8.count + 7) & ~7
    put(pad, 0x55aa_feef)
    put(pad + 4, UInt32(next - pad - 8))
    file(at: next, name: "pubkey.bin", content: [UInt8](repeating: 0x42, count: 264))
    return bytes
  }
}
