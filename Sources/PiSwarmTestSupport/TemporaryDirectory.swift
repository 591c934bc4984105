import Foundation

/// A folder unique to one test, removed when the test is done with it (also when it fails).
public final class TemporaryDirectory: Sendable {
  public let path: String

  public init(_ prefix: String = "piswarm-test") {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    path = "\(base)/\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  public func file(_ name: String) -> String { path + "/" + name }

  @discardableResult
  public func write(_ name: String, _ text: String) -> String {
    let target = file(name)
    try? text.write(toFile: target, atomically: true, encoding: .utf8)
    return target
  }

  @discardableResult
  public func write(_ name: String, bytes: [UInt8]) -> String {
    let target = file(name)
    _ = FileManager.default.createFile(atPath: target, contents: Data(bytes))
    return target
  }

  public func read(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }

  /// Every file below, with its content, for "nothing changed" checks.
  public func snapshot() -> [String: Data] {
    var result: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let name = enumerator?.nextObject() as? String {
      result[name] = FileManager.default.contents(atPath: file(name)) ?? Data()
    }
    return result
  }
}
