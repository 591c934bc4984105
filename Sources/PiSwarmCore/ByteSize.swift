/// A size such as `8G` or `512MiB`, in bytes.
public struct ByteSize: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var bytes: UInt64

  public init(bytes: UInt64) { self.bytes = bytes }

  /// Accepts a whole number with an optional unit K, M, G or T (powers of 1024), written `G`, `Gi`,
  /// `GB` or `GiB`, in any case. A bare number means bytes.
  public init?(_ text: some StringProtocol) {
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, let number = UInt64(digits) else { return nil }
    let unit = text.dropFirst(digits.count).lowercased()
    let shifts: [String: UInt64] = [
      "": 0, "b": 0, "k": 10, "ki": 10, "kb": 10, "kib": 10, "m": 20, "mi": 20, "mb": 20, "mib": 20,
      "g": 30, "gi": 30, "gb": 30, "gib": 30, "t": 40, "ti": 40, "tb": 40, "tib": 40,
    ]
    guard let shift = shifts[unit] else { return nil }
    let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
    guard !overflow else { return nil }
    bytes = value
  }

  /// The shortest exact form: `8G`, `512M`, `1536K`, `100`.
  public var description: String {
    for (suffix, shift) in [("T", UInt64(40)), ("G", 30), ("M", 20), ("K", 10)]
    where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
      return "\(bytes >> shift)\(suffix)"
    }
    return "\(bytes)"
  }

  public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
  public static func gibibytes(_ n: UInt64) -> ByteSize { ByteSize(bytes: n << 30) }
}
