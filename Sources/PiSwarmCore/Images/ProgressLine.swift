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
}
