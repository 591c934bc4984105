/// Rendered files are line-based: a value that holds a line break (or a NUL) would smuggle in
/// lines of its own.
enum SingleLine {
  static func check(_ value: String, what: String) throws(PiSwarmError) {
    guard value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else { return }
    throw PiSwarmError(
      .invalidInput, "\(what) \"\(value.debugDescription.dropFirst().dropLast())\" holds a line break",
      advice: "write the value on one line in the cluster file")
  }
}
