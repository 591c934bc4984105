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
  /// Power-on (Unix time), seconds from it to the DHCP ACK, whether every required file came
  /// (the boot sequence only), and seconds from power-on to the last of them.
  var poweredOn: Double?
  var dhcpSeconds: Double?
  var booted: Bool?
  var bootSeconds: Double?
}
