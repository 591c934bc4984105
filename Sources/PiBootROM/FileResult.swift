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
}
