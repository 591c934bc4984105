import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSystem

extension HeadRegistry {
  public func status() -> [RegistryInstanceStatus] {
    let expires = certificateEnd()
    return cluster.registry.roles.map { role in
      let answer = RegistryProbe.ask(cluster: cluster, paths: paths, role: role)
      return RegistryInstanceStatus(
        role: role, address: "\(cluster.headHost):\(role.port(cluster.registry))",
        service: service(role).isRunning ? "running" : "stopped", reachable: answer.status == 200,
        tls: answer.status != nil ? "verified" : (answer.error ?? "no answer"), certificateExpires: expires,
        diskUsed: Self.diskUsed(paths.data(role)), data: paths.data(role),
        upstream: role == .cache ? cluster.registry.upstream : nil)
    }
  }

  func certificateEnd() -> String? {
    guard Files.exists(paths.serverCertificate), let openssl = Command.resolve("openssl"),
      let output = try? Command(openssl, ["x509", "-enddate", "-noout", "-in", paths.serverCertificate], timeout: 20).run(),
      output.status == 0
    else { return nil }
    let line = output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    return line.hasPrefix("notAfter=") ? String(line.dropFirst("notAfter=".count)) : line
  }

  /// `du -sb`: what the folder holds, in bytes; nil when it is not there.
  static func diskUsed(_ folder: String) -> Int64? {
    guard Files.exists(folder), let output = try? Command("du", ["-sb", folder], timeout: 120).run(), output.status == 0
    else { return nil }
    return output.stdoutText.split(whereSeparator: \.isWhitespace).first.flatMap { Int64($0) }
  }

  /// Garbage collection of the private registry (the cache expires what it holds on its own):
  /// the instance stops (no push may run meanwhile), `docker-registry garbage-collect
  /// --delete-untagged` runs, and the instance starts again, also when the collection failed.
  public func collectGarbage(
    dryRun: Bool, progress: @Sendable (String) -> Void = { _ in }
  ) throws(PiSwarmError)
    -> RegistryCollection
  {
    guard cluster.registry.enabled else {
      throw PiSwarmError(
        .invalidInput, "the head's registry is off in the cluster file",
        advice: "turn it on (registry: true) and run 'piswarm up' first")
    }
    guard Files.exists(paths.config(.private)) else {
      throw PiSwarmError(
        .invalidInput, "the private registry is not set up: \(paths.config(.private)) is missing",
        advice: "run 'piswarm up' first")
    }
    let before = Self.diskUsed(paths.data(.private))
    let service = service(.private)
    let wasRunning = service.isRunning
    if wasRunning && !dryRun {
      progress("stopping the private registry")
      try service.stop()
    }
    var arguments = ["garbage-collect", "--delete-untagged"]
    if dryRun { arguments.append("--dry-run") }
    arguments.append(paths.config(.private))
    let output = Result { () throws(PiSwarmError) in
      try Command(RegistryFiles.executable, arguments, environment: ["PATH": "/usr/bin:/bin"], timeout: 3600).run()
    }
    if wasRunning && !dryRun {
      progress("starting the private registry again")
      try service.restart()
      try waitUntilAnswering(.private)
    }
    let result = try output.get()
    guard result.status == 0 else {
      throw PiSwarmError(
        .system, "docker-registry garbage-collect failed (status \(result.status))",
        advice: "see what it says; the registry was started again",
        cause: result.stderrText.split(separator: "\n").suffix(3).joined(separator: "; "))
    }
    let summary =
      (result.stdoutText + result.stderrText).split(separator: "\n").last { $0.contains("eligible for deletion") }
      .map { line in
        // A logrus line: keep the message.
        if let range = line.range(of: "msg=\"") {
          return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
        return String(line)
      } ?? "done"
    return RegistryCollection(
      dryRun: dryRun, diskBefore: before, diskAfter: Self.diskUsed(paths.data(.private)), summary: summary)
  }
}
