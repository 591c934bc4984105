import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

/// `--stream`: whole lines, prefixed with the node's name, as they arrive.
final class LinePrinter: Sendable {
  let width: Int
  let partial = Mutex([String: Data]())

  init(width: Int) { self.width = width }

  func add(_ node: String, _ data: Data, isError: Bool) {
    let key = node + (isError ? "!" : "")
    let lines: [Data] = partial.withLock { buffers in
      var buffer = (buffers[key] ?? Data()) + data
      var complete: [Data] = []
      while let newline = buffer.firstIndex(of: 0x0A) {
        complete.append(buffer[buffer.startIndex...newline])
        buffer = Data(buffer[buffer.index(after: newline)...])
      }
      buffers[key] = buffer
      return complete
    }
    let prefix = node.padding(toLength: width, withPad: " ", startingAt: 0) + (isError ? " ! " : " | ")
    for line in lines {
      let text = prefix + String(decoding: line, as: UTF8.self)
      if isError { Console.err(text) } else { Console.out(text) }
    }
  }

  func flush() {
    for (key, rest) in partial.withLock({ $0 }) where !rest.isEmpty {
      add(key.hasSuffix("!") ? String(key.dropLast()) : key, Data("\n".utf8), isError: key.hasSuffix("!"))
    }
  }
}
