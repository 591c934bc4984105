import Foundation
import Synchronization

/// Runs work on many items at once on plain threads (each item blocks on a process, so the
/// cooperative pool of two threads on a small head would serialise it), at most `parallel` at a
/// time. Results keep the items' order. Items not started once `Cancellation` is set are skipped.
public enum FanOut {
  public static func run<Item: Sendable, Result: Sendable>(
    _ items: [Item], parallel: Int, skipped: @escaping @Sendable (Item) -> Result, _ body: @escaping @Sendable (Item) -> Result
  ) -> [Result] {
    guard !items.isEmpty else { return [] }
    let results = Mutex([Result?](repeating: nil, count: items.count))
    let next = Mutex(0)
    let workers = max(1, min(parallel, items.count))
    let done = DispatchSemaphore(value: 0)
    for _ in 0..<workers {
      let thread = Thread {
        while true {
          let index = next.withLock { value -> Int in
            defer { value += 1 }
            return value
          }
          guard index < items.count else { break }
          let result = Cancellation.isCancelled ? skipped(items[index]) : body(items[index])
          results.withLock { $0[index] = result }
        }
        done.signal()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    for _ in 0..<workers { done.wait() }
    return results.withLock { $0.enumerated().map { $0.element ?? skipped(items[$0.offset]) } }
  }
}
