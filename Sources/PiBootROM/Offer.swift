import Crypto
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

struct Offer: Codable {
  var server: String
  var yiaddr: String
  var siaddr: String
  var serverID: String?
  var tftpServer: String?
  var vendorClass: String?
  var menu: [String]
  var piMenu: Bool
}
