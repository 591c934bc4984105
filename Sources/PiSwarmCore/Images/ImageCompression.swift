/// How a disk image file is compressed, told by its first bytes (not its name).
public enum ImageCompression: String, Sendable, Codable, CaseIterable {
  case none
  case xz
  case gzip
  case zstd

  /// The compression of a file starting with `magic` (at least 6 bytes for xz).
  public static func detect(_ magic: [UInt8]) -> ImageCompression {
    if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
    if magic.starts(with: [0x1F, 0x8B]) { return .gzip }
    if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
    return .none
  }

  /// The decompressor writing the image to stdout from stdin, as an argument array; nil for none.
  public var decompressor: [String]? {
    switch self {
    case .none: nil
    case .xz: ["xz", "--decompress", "--stdout", "--threads=0"]
    case .gzip: ["gzip", "--decompress", "--stdout"]
    case .zstd: ["zstd", "--decompress", "--stdout", "--quiet"]
    }
  }
}
