import Crypto
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

struct Report: Codable {
  var mac: String
  var model: String
  var serial: String
  var offers: [Offer] = []
  var address: String?
  var bootServer: String?
  var prefix: String?
  var files: [FileResult] = []
  var error: String?
}
