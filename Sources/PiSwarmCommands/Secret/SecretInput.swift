import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A secret's value, read where no one else sees it: typed at a prompt that does not echo
/// (asked twice), or read from stdin when stdin is not a terminal.
enum SecretInput {
  static let limit = 64 * 1024

  static func read(name: String) throws(PiSwarmError) -> String {
    let value: String
    if isatty(STDIN_FILENO) == 1 {
      let first = try prompt("value for secret \(name) (not shown): ")
      let second = try prompt("the same again: ")
      guard first == second else {
        throw PiSwarmError(.invalidInput, "the two values typed for secret \(name) differ", advice: "run the command again")
      }
      value = first
    } else {
      let data = FileHandle.standardInput.readData(ofLength: limit + 1)
      guard data.count <= limit else {
        throw PiSwarmError(
          .invalidInput, "the value on stdin is longer than \(limit / 1024) KiB", advice: "a secret is a password or a token")
      }
      value = dropLineBreak(String(decoding: data, as: UTF8.self))
    }
    guard !value.isEmpty else {
      throw PiSwarmError(
        .invalidInput, "no value for secret \(name)",
        advice: "type it at the prompt, or pipe it in: printf '%s' \"$VALUE\" | piswarm secret set \(name)")
    }
    guard !value.unicodeScalars.contains("\0") else {
      throw PiSwarmError(.invalidInput, "the value for secret \(name) holds a NUL byte", advice: "a secret is text")
    }
    return value
  }

  /// One trailing line break (`echo` adds one) is not part of the value.
  static func dropLineBreak(_ text: String) -> String {
    if text.hasSuffix("\r\n") { return String(text.dropLast(2)) }
    if text.hasSuffix("\n") { return String(text.dropLast()) }
    return text
  }

  /// A line typed with the terminal's echo off (restored after, also on an error).
  static func prompt(_ text: String) throws(PiSwarmError) -> String {
    var saved = termios()
    guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
      throw PiSwarmError(.system, "cannot read the terminal's settings: \(String(cString: strerror(errno)))")
    }
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    quiet.c_lflag |= tcflag_t(ECHONL)
    // Echo goes off before the prompt shows: nothing typed after it can appear.
    guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0 else {
      throw PiSwarmError(.system, "cannot turn the terminal's echo off: \(String(cString: strerror(errno)))")
    }
    defer { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
    Console.errRaw(text)
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while line.count <= limit {
      let count = Glibc.read(STDIN_FILENO, &byte, 1)
      if count < 0 && errno == EINTR { continue }
      if count <= 0 || byte == UInt8(ascii: "\n") { break }
      line.append(byte)
    }
    return dropLineBreak(String(decoding: line, as: UTF8.self))
  }
}
