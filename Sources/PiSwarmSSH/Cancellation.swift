import Foundation
import Synchronization

/// Set when the user interrupts piswarm (Ctrl-C): work not yet started is skipped.
public enum Cancellation {
  static let flag = Atomic<Bool>(false)
  public static var isCancelled: Bool { flag.load(ordering: .relaxed) }
  public static func cancel() { flag.store(true, ordering: .relaxed) }
}
