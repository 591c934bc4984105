import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What an import found and stored.
public struct ImportedImage: Codable, Sendable, Equatable {
  public var name: String
  public var source: String
  public var compression: ImageCompression
  public var osRelease: String
  /// `kernel*.img` files of the boot partition.
  public var kernels: [String]
  /// Folders of the root's /lib/modules: the kernel versions.
  public var modules: [String]
  /// The uncompressed image size and the source file size, in bytes.
  public var imageSize: UInt64
  public var sourceSize: UInt64
  public var sha256: String
  public var importedAt: Date
}
