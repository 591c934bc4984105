import Yams

/// Checks that bytes are UTF-8 text without NUL bytes before YAML sees them.
enum TextCheck {
  static func text(from bytes: some Collection<UInt8>) -> Result<String, Diagnostic> {
    var body = Array(bytes)
    if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
    var iterator = body.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    var offset = 0
    loop: while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        if encoded.count == 1, encoded.first == 0 {
          return .failure(notText(body, offset, "a NUL byte"))
        }
        offset += encoded.count
      case .error(let length):
        _ = length
        return .failure(notText(body, offset, "bytes that are not UTF-8"))
      case .emptyInput:
        break loop
      }
    }
    return .success(String(decoding: body, as: UTF8.self))
  }

  private static func notText(_ bytes: [UInt8], _ offset: Int, _ what: String) -> Diagnostic {
    let location = location(ofByte: offset, in: bytes)
    return Diagnostic(
      .error, at: location,
      "this is not a text file (\(what) at byte \(offset)); a cluster file is YAML text: check the --file path")
  }

  /// The line and column of a byte offset, counting columns in Unicode scalars of the valid prefix.
  static func location(ofByte offset: Int, in bytes: [UInt8]) -> SourceLocation {
    let prefix = bytes.prefix(offset)
    let line = prefix.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    let lineStart = prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
    let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self).unicodeScalars.count + 1
    return SourceLocation(line: line, column: column)
  }
}
