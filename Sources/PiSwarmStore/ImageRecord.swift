import Foundation
import GRDB
import PiSwarmCore

/// An imported OS image (migration 3-images). Lists are stored comma-separated.
public struct ImageRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "images"
  public var name: String
  public var source: String
  public var compression: String
  public var osRelease: String
  public var kernels: String
  public var modules: String
  public var imageSize: Int64
  public var sourceSize: Int64
  public var sha256: String
  public var importedAt: Date

  public init(
    name: String, source: String, compression: String, osRelease: String, kernels: [String], modules: [String],
    imageSize: Int64, sourceSize: Int64, sha256: String, importedAt: Date
  ) {
    self.name = name
    self.source = source
    self.compression = compression
    self.osRelease = osRelease
    self.kernels = kernels.joined(separator: ",")
    self.modules = modules.joined(separator: ",")
    self.imageSize = imageSize
    self.sourceSize = sourceSize
    self.sha256 = sha256
    self.importedAt = importedAt
  }

  enum CodingKeys: String, CodingKey {
    case name, source, compression, kernels, modules, sha256
    case osRelease = "os_release"
    case imageSize = "image_size"
    case sourceSize = "source_size"
    case importedAt = "imported_at"
  }
}
