import Crypto
import Foundation

extension SHA256 {
  /// The digest of `bytes` as 64 lowercase hex digits, as `sha256sum` prints it.
  public static func hex(_ bytes: some DataProtocol) -> String {
    hash(data: bytes).hexDigits
  }
}

extension SHA256Digest {
  /// The digest as lowercase hex digits.
  public var hexDigits: String {
    let digits = Array("0123456789abcdef")
    var out = ""
    out.reserveCapacity(Self.byteCount * 2)
    for byte in self {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0xf)])
    }
    return out
  }
}
