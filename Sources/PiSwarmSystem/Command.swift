import Foundation
import PiSwarmCore

/// A process started from an argument array (never a shell string), its output collected.
public struct Command: Sendable {
  public var executable: String
  public var arguments: [String]
  public var environment: [String: String]?
  public var directory: String?

  public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) {
    self.executable = executable
    self.arguments = arguments
    self.environment = environment
    self.directory = directory
  }

  public struct Output: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
  }

  /// Runs to completion. The executable is looked up on PATH when it holds no '/'.
  public func run(input: Data? = nil) throws(PiSwarmError) -> Output {
    let process = Process()
    guard let path = Self.resolve(executable) else {
      throw PiSwarmError(
        .system, "\(executable) is not installed (not found on PATH)", advice: "install it, e.g. with 'make deps'")
    }
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    let inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
    do { try process.run() } catch {
      throw PiSwarmError(.system, "cannot start \(executable)", cause: error.localizedDescription)
    }
    if let input {
      try? inPipe.fileHandleForWriting.write(contentsOf: input)
      try? inPipe.fileHandleForWriting.close()
    }
    // Read both pipes concurrently so neither fills and blocks the child.
    let collected = Collected()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      collected.setStderr(err.fileHandleForReading.readDataToEndOfFile())
      group.leave()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Output(status: process.terminationStatus, stdout: stdout, stderr: collected.stderr)
  }

  /// Runs and throws when the exit status is not 0, with the tool's stderr as the cause.
  @discardableResult
  public func check(input: Data? = nil) throws(PiSwarmError) -> Output {
    let output = try run(input: input)
    guard output.status == 0 else {
      throw PiSwarmError(
        .system, "\(([executable] + arguments).joined(separator: " ")) failed with status \(output.status)",
        cause: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return output
  }

  public static func resolve(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    let folders: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
    for folder in folders {
      let candidate = "\(folder)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}

/// stderr collected on another thread; guarded by a lock.
private final class Collected: @unchecked Sendable {
  // @unchecked: every access to `data` goes through `lock`.
  private let lock = NSLock()
  private var data = Data()
  func setStderr(_ value: Data) { lock.withLock { data = value } }
  var stderr: Data { lock.withLock { data } }
}
