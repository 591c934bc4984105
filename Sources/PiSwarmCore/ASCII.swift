/// Small ASCII tests and trims the cluster file reader uses.
extension Character {
  var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

extension Substring {
  var trimmingSpaces: Substring {
    let start = firstIndex { $0 != " " } ?? endIndex
    let end = lastIndex { $0 != " " }.map { index(after: $0) } ?? start
    return start < end ? self[start..<end] : self[start..<start]
  }
}

extension Unicode.Scalar {
  var isASCIIAlphanumeric: Bool {
    ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
  }
}
