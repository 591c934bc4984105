/// A progress line for long copies: bytes done of total, a bar, a percentage.
public enum ProgressLine {
  /// E.g. `importing raspios.img.xz [#########-----------]  45%  210.3 MiB / 466.0 MiB`.
  public static func render(label: String, done: UInt64, total: UInt64, width: Int = 20) -> String {
    let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
    let filled = Int((fraction * Double(width)).rounded(.down))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let percent = String(Int((fraction * 100).rounded(.down)))
    let padded = String(repeating: " ", count: max(0, 3 - percent.count)) + percent
    return "\(label) [\(bar)] \(padded)%  \(mebibytes(done)) / \(mebibytes(total))"
  }

  /// `466.0 MiB`, one decimal.
  public static func mebibytes(_ bytes: UInt64) -> String {
    let tenths = (bytes * 10 + (1 << 19)) >> 20
    return "\(tenths / 10).\(tenths % 10) MiB"
  }

  /// `29.7 GiB`, one decimal.
  public static func gibibytes(_ bytes: UInt64) -> String {
    let tenths = (bytes * 10 + (1 << 29)) >> 30
    return "\(tenths / 10).\(tenths % 10) GiB"
  }

  /// A card's line while it is burned: `sdb write  45%  812.0 MiB written  95.3 MB/s  ETA 0:12`.
  /// `fraction` is how far the phase is (0…1), `bytes` what it moved so far in `seconds`.
  public static func burn(device: String, phase: String, fraction: Double, bytes: UInt64, seconds: Double) -> String {
    let percent = Int((min(1, max(0, fraction)) * 100).rounded(.down))
    let rate = seconds > 0 ? Double(bytes) / seconds / 1_000_000 : 0
    var eta = "--:--"
    if fraction > 0.001 && seconds > 0 {
      let left = Int((seconds / fraction - seconds).rounded())
      eta = "\(left / 60):" + (left % 60 < 10 ? "0" : "") + "\(left % 60)"
    }
    let tenths = Int((rate * 10).rounded())
    return "\(device) \(phase) \(percent)%  \(mebibytes(bytes))  \(tenths / 10).\(tenths % 10) MB/s  ETA \(eta)"
  }
}
