import Foundation
import GRDB
import PiSwarmCore

public enum RunStatus: String, Codable, Sendable {
  case running
  case succeeded
  case failed
}
