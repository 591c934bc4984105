import Foundation

/// Golden files: rendered text compared with a file kept in the repository. Run the tests with
/// `PISWARM_UPDATE_GOLDEN=1` to write the files anew, then review the diff.
public enum Golden {
  /// Returns nil when `actual` matches the golden file `name` beside `testFile` (in `Golden/`),
  /// else a message with the first differing line. Writes the file in update mode.
  public static func check(_ actual: String, named name: String, testFile: String = #filePath) -> String? {
    let folder = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Golden")
    let url = folder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["PISWARM_UPDATE_GOLDEN"] == "1" {
      try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try? actual.write(to: url, atomically: true, encoding: .utf8)
      return nil
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
      return "golden file \(url.path) is missing; run the tests with PISWARM_UPDATE_GOLDEN=1 to write it"
    }
    if expected == actual { return nil }
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let index = Array(zip(a, e)).firstIndex { $0.0 != $0.1 } ?? min(a.count, e.count)
    let got = index < a.count ? String(a[index]) : "<end>"
    let want = index < e.count ? String(e[index]) : "<end>"
    return "\(name) differs at line \(index + 1):\n  expected: \(want)\n  actual:   \(got)\n(PISWARM_UPDATE_GOLDEN=1 rewrites it)"
  }
}
