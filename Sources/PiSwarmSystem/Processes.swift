import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// Starting long-lived processes that outlive piswarm, and finding and ending processes by PID
/// through /proc. Never by name.
public enum Processes {
  /// Starts `arguments` in a new session, stdin from /dev/null, stdout and stderr appended to
  /// `log`, with exactly `environment`. Returns its PID; does not wait for it.
  public static func spawnDetached(
    _ arguments: [String], environment: [String: String], log: String
  ) throws(PiSwarmError)
    -> pid_t
  {
    try ChildProcess.start(
      arguments, environment: environment, stdout: .file(log, append: true), stderr: .stdout, group: .session
    ).pid
  }

  public static func isAlive(_ pid: pid_t) -> Bool {
    guard pid > 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    // A zombie has ended; only its parent's wait is missing.
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)...].first
    return state != "Z" && state != "X"
  }

  /// The command line of `pid`, its words.
  public static func commandLine(_ pid: pid_t) -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
  }

  public static func name(_ pid: pid_t) -> String {
    ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
  }

  /// Direct children of `pid`, over all its threads.
  public static func children(_ pid: pid_t) -> [pid_t] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    var result: [pid_t] = []
    for task in tasks {
      let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
      result += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
    return result
  }

  /// Every descendant of `pid`, breadth first.
  public static func descendants(_ pid: pid_t) -> [pid_t] {
    var result: [pid_t] = []
    var queue = children(pid)
    while !queue.isEmpty {
      let next = queue.removeFirst()
      result.append(next)
      queue += children(next)
    }
    return result
  }

  /// The PID namespace of `pid` (`pid:[4026532…]`), or nil.
  public static func pidNamespace(_ pid: pid_t) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")
  }

  /// All PIDs on the machine.
  public static func all() -> [pid_t] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
  }

  /// PIDs whose PID namespace is `namespace`.
  public static func inNamespace(_ namespace: String) -> [pid_t] {
    all().filter { pidNamespace($0) == namespace }
  }

  @discardableResult
  public static func signal(_ pid: pid_t, _ signal: Int32) -> Bool { pid > 0 && kill(pid, signal) == 0 }

  /// Waits until every PID in `pids` has ended (or is a zombie), up to `timeout` seconds.
  /// Returns those still alive.
  public static func waitForExit(_ pids: [pid_t], timeout: Double) -> [pid_t] {
    let deadline = Deadline(in: timeout)
    var alive = pids.filter(isAlive)
    while !alive.isEmpty && !deadline.hasPassed {
      usleep(20_000)
      for pid in alive { reap(pid) }
      alive = alive.filter(isAlive)
    }
    return alive
  }

  /// Collects `pid` if it is our own child and has ended, so that it leaves no zombie. Never
  /// `waitpid(-1)`: that would take other waits' children.
  public static func reap(_ pid: pid_t) {
    var status: Int32 = 0
    _ = waitpid(pid, &status, WNOHANG)
  }
}
