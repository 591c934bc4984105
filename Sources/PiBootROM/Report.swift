import Crypto
import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// What pi-bootrom prints (one board) or writes (one file per board): JSON, keys sorted.
public struct Report: Codable {
  var mac: String
  var model: String
  var serial: String
  var offers: [Offer] = []
  var address: String?
  var bootServer: String?
  var prefix: String?
  var files: [FileResult] = []
  public var error: String?
  /// Power-on (Unix time), seconds from it to the DHCP ACK, whether every required file came
  /// (the boot sequence only), and seconds from power-on to the last of them.
  var poweredOn: Double?
  var dhcpSeconds: Double?
  var booted: Bool?
  var bootSeconds: Double?
}

extension Report {
  /// The report as pi-bootrom prints it: pretty, keys sorted, slashes unescaped, a final newline.
  public var json: Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return ((try? encoder.encode(self)) ?? Data("{}".utf8)) + Data("\n".utf8)
  }
}
