import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// The mount table, from /proc/self/mountinfo.
public enum Mounts {
  /// Mount points (unescaped) of the calling process's mount namespace.
  public static func points(of pid: String = "self") -> [String] {
    guard let text = Files.readWhole("/proc/\(pid)/mountinfo") else { return [] }
    return text.split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ")
      return fields.count > 4 ? unescape(String(fields[4])) : nil
    }
  }

  static func unescape(_ text: String) -> String {
    var result = ""
    var index = text.startIndex
    while index < text.endIndex {
      if text[index] == "\\", let end = text.index(index, offsetBy: 4, limitedBy: text.endIndex),
        let code = UInt8(text[text.index(after: index)..<end], radix: 8)
      {
        result.append(Character(Unicode.Scalar(code)))
        index = end
      } else {
        result.append(text[index])
        index = text.index(after: index)
      }
    }
    return result
  }
}
