import Foundation

/// The built `piswarm` executable, for tests that drive it as a user would.
public enum TestBinary {
  /// Beside the test bundle in the same products folder, else `.build/debug/piswarm`.
  public static func piswarm(testFile: String = #filePath) -> String {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var folder = runner.deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = folder.appendingPathComponent("piswarm").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("../../.build/debug/piswarm").path
  }
}
