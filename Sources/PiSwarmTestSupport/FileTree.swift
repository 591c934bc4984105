import Foundation

/// Small trees of text files for tests: relative path → content, folders made as needed.
public enum FileTree {
  public static func write(_ files: [String: String], under root: String) throws {
    for (file, content) in files {
      let target = root + "/" + file
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try content.write(toFile: target, atomically: false, encoding: .utf8)
    }
  }
}
