import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

struct BootROMError: Error, CustomStringConvertible {
  var description: String
  init(_ text: String) { description = text }
}
