import Crypto
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

struct FileResult: Codable {
  var name: String
  var status: String
  var bytes: Int?
  var sha256: String?
  var content: String?
  /// `probe`, `check` (size only), `optional`, `required` or `selfUpdate`.
  var kind: String?
  /// Seconds the read took, and seconds from power-on to its end.
  var seconds: Double?
  var at: Double?
}
