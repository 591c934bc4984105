import Foundation

/// Runs a dnsmasq hook script as dnsmasq does: real dash (Debian's /bin/sh), the script's path
/// then the words, and in the environment only `DNSMASQ_VENDOR_CLASS` when given.
public enum DnsmasqHookRun {
  /// The exit status and everything it printed on stdout and stderr.
  @discardableResult
  public static func run(_ script: String, _ words: [String], vendor: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/dash")
    process.arguments = [script] + words
    process.environment = vendor.map { ["DNSMASQ_VENDOR_CLASS": $0] } ?? [:]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
  }
}
