/// The PXE vendor options (option 43) a Pi needs: a boot menu item named "Raspberry Pi Boot".
public enum PXEMenu {
  /// The menu items' texts, from sub-option 9 (PXE_BOOT_MENU: type 2 bytes, length, text).
  public static func items(_ option43: [UInt8]) -> [String] {
    var texts: [String] = []
    var index = 0
    while index + 1 < option43.count {
      let code = option43[index]
      if code == 255 { break }
      let length = Int(option43[index + 1])
      guard index + 2 + length <= option43.count else { break }
      let value = Array(option43[(index + 2)..<(index + 2 + length)])
      if code == 9 {
        var item = 0
        while item + 3 <= value.count {
          let textLength = Int(value[item + 2])
          guard item + 3 + textLength <= value.count else { break }
          texts.append(String(decoding: value[(item + 3)..<(item + 3 + textLength)], as: UTF8.self))
          item += 3 + textLength
        }
      }
      index += 2 + length
    }
    return texts
  }

  /// Whether option 43 offers the "Raspberry Pi Boot" item the Pi boot ROM looks for.
  public static func offersPiBoot(_ option43: [UInt8]) -> Bool { items(option43).contains { $0.hasPrefix("Raspberry Pi Boot") } }
}
