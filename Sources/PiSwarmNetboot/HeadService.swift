import Foundation
import PiSwarmCore
import PiSwarmSystem

/// A long-running service of the head (the registry's instances), run the way dnsmasq is: a
/// systemd unit where systemd runs (`ServiceControl`), else a process piswarm starts itself in a
/// session of its own, its output appended to a log, known by the PID in its PID file and by its
/// command line (never by name). Without systemd nothing restarts it when it dies: the next
/// `plan` shows it stopped and the next `up` starts it again.
public struct HeadService: Sendable {
  /// The systemd unit's name, without `.service`.
  public var name: String
  /// Its command line: what the unit's ExecStart runs, or what piswarm starts.
  public var arguments: [String]
  /// The unit's text (written to `unitPath` under systemd).
  public var unit: String
  public var pidFile: String
  public var log: String
  public var services: any ServiceControl

  public init(
    name: String, arguments: [String], unit: String, pidFile: String, log: String, services: any ServiceControl
  ) {
    self.name = name
    self.arguments = arguments
    self.unit = unit
    self.pidFile = pidFile
    self.log = log
    self.services = services
  }

  public var systemd: Bool { services.unavailableReason == nil }
  public var unitPath: String { "/etc/systemd/system/\(name).service" }

  /// The PID of the supervised process, when it runs as this service's.
  public var pid: pid_t? {
    guard let text = Files.readWhole(pidFile), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
      Processes.isAlive(pid), Processes.commandLine(pid) == arguments
    else { return nil }
    return pid
  }

  public var isRunning: Bool { systemd ? services.isActive(name) : pid != nil }

  /// Writes the unit when it changed (systemd only); whether it did.
  public func writeUnit() throws(PiSwarmError) -> Bool {
    guard systemd else { return false }
    let changed = try AtomicFile.write(unit, to: unitPath)
    if changed { try services.enable(name) }
    return changed
  }

  /// Starts the service, or restarts it when it runs.
  public func restart() throws(PiSwarmError) {
    if systemd {
      try services.restart(name)
      return
    }
    try stop()
    // What it says this time: the log is appended to.
    let offset = (Files.readWhole(log) ?? "").utf8.count
    let pid = try Processes.spawnDetached(
      arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: log)
    try AtomicFile.write("\(pid)\n", to: pidFile, mode: 0o600)
    // One that fails at once (a bad configuration, a port in use) says so in its log.
    usleep(300_000)
    Processes.reap(pid)
    guard Processes.isAlive(pid) else {
      unlink(pidFile)
      throw PiSwarmError(
        .system,
        "\(name) exited as it started: \(Self.lastWords(String((Files.readWhole(log) ?? "").utf8.dropFirst(offset)) ?? ""))",
        advice: "see \(log); fix what it says and run 'piswarm up' again")
    }
  }

  /// What a process that died said last: its panic or fatal line (a Go program's stack trace
  /// follows it), else its last line.
  static func lastWords(_ log: String) -> String {
    let lines = log.split(separator: "\n")
    let reason = lines.last { $0.hasPrefix("panic:") || $0.contains("level=fatal") || $0.contains("level=error") } ?? lines.last
    return reason.map { String($0.prefix(400)) } ?? "no output"
  }

  /// Stops the service; `disable`: under systemd, keeps it from starting at boot too.
  public func stop(disable: Bool = false) throws(PiSwarmError) {
    if systemd {
      try disable ? services.disable(name) : services.stop(name)
      return
    }
    guard let pid else {
      unlink(pidFile)
      return
    }
    Processes.signal(pid, SIGTERM)
    if !Processes.waitForExit([pid], timeout: 10).isEmpty {
      Processes.signal(pid, SIGKILL)
      _ = Processes.waitForExit([pid], timeout: 5)
    }
    unlink(pidFile)
  }
}
