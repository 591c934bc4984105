import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// pi-bootrom's errors: a message that names the offending value.
public struct BootROMError: Error, CustomStringConvertible {
  public var description: String
  public init(_ text: String) { description = text }
}
