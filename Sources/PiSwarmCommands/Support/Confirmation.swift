import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// A yes/no question before a command changes something that cannot be undone.
enum Confirmation {
  /// Asks `question` on a terminal unless `yes`; refuses to guess on a non-terminal (`advice`
  /// says how to go ahead). Anything but "y"/"yes" is `declined`.
  static func ask(_ question: String, yes: Bool, advice: String, declined: String) throws(PiSwarmError) {
    guard !yes else { return }
    guard isatty(0) == 1 else { throw PiSwarmError(.invalidInput, "not asking on a non-terminal", advice: advice) }
    Console.errRaw("\(question) [y/N] ")
    let answer = readLine()?.lowercased() ?? ""
    guard answer == "y" || answer == "yes" else { throw PiSwarmError(.invalidInput, declined, advice: nil) }
  }
}
