import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `ChildProcess`, the one spawn every process of piswarm goes through.
@Suite struct ChildProcessTests {
  let folder = TemporaryDirectory("piswarm-child")

  /// A pipe of ours; its read end becomes the child's stdin.
  @Test func stdinFromADescriptor() throws {
    var fds: [Int32] = [-1, -1]
    #expect(pipe(&fds) == 0)
    #expect(Signals.writeAll(fds[1], Data("through a pipe".utf8)))
    close(fds[1])
    let child = try ChildProcess.start(["cat"], stdin: .descriptor(fds[0]))
    close(fds[0])
    let output = child.collect(deadline: Deadline(in: 30))
    #expect(output.status == 0)
    #expect(output.stdoutText == "through a pipe")
  }

  @Test func stdinFromAFileAndStdoutToAFile() throws {
    let input = folder.write("in.txt", "from a file")
    let log = folder.file("out.log")
    let child = try ChildProcess.start(
      ["/bin/sh", "-c", "cat; echo ' and more' >&2"], stdin: .file(input), stdout: .file(log, append: false),
      stderr: .stdout)
    #expect(child.output == -1 && child.errors == -1)
    #expect(child.wait() == 0)
    #expect(folder.read("out.log") == "from a file and more\n")
    #expect(try ChildProcess.start(["echo", "again"], stdout: .file(log, append: true)).wait() == 0)
    #expect(folder.read("out.log") == "from a file and more\nagain\n")
  }

  /// A child in a group of its own is killed at its deadline with everything it started.
  @Test func aChildInItsOwnGroupIsKilledWithItsGrandchildren() throws {
    let child = try ChildProcess.start(["/bin/sh", "-c", "sleep 20 & echo $!; sleep 20 & wait"], group: .own)
    #expect(child.leadsGroup)
    #expect(getpgid(child.pid) == child.pid)
    let started = Stopwatch()
    let output = child.collect(deadline: Deadline(in: 1))
    let grandchild = pid_t(output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    #expect(grandchild > 0)
    #expect(output.timedOut)
    #expect(started.seconds < 1.9, "the pipes closed at once: nothing in the group held them")
    let alive = Processes.waitForExit([grandchild], timeout: 5)
    for pid in alive { Processes.signal(pid, SIGKILL) }
    #expect(alive.isEmpty, "the grandchild outlived its group's kill")
  }

  @Test func aDetachedChildLeadsASessionOfItsOwn() throws {
    let log = folder.file("detached.log")
    let pid = try Processes.spawnDetached(["sleep", "20"], environment: [:], log: log)
    defer {
      Processes.signal(pid, SIGKILL)
      _ = Processes.waitForExit([pid], timeout: 5)
    }
    #expect(getsid(pid) == pid)
    #expect(getpgid(pid) == pid)
  }

  /// The child of a parent that ignores SIGPIPE and blocks signals: dispositions and mask are
  /// reset, so `yes` writing to a pipe nobody reads ends by SIGPIPE.
  @Test func aChildWritingToAClosedPipeEndsBySIGPIPE() throws {
    Signals.ignoreBrokenPipes()
    var blocked = sigset_t()
    sigemptyset(&blocked)
    sigaddset(&blocked, SIGUSR1)
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &blocked, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    let child = try ChildProcess.start(["yes"], stderr: .null)
    var buffer = [UInt8](repeating: 0, count: 16)
    #expect(read(child.output, &buffer, buffer.count) > 0)
    close(child.output)
    #expect(child.wait() == 128 + SIGPIPE)

    let status = try Command("cat", ["/proc/self/status"]).check().stdoutText
    let fields = Dictionary(
      status.split(separator: "\n").map { line in
        (String(line.prefix { $0 != ":" }), line.split(separator: "\t").last.map(String.init) ?? "")
      }, uniquingKeysWith: { first, _ in first })
    #expect(UInt64(fields["SigBlk"] ?? "", radix: 16) == 0, "the signal mask is empty")
    // Signals 1-31; glibc keeps 32 and 33 for itself and they cannot be reset.
    #expect(UInt64(fields["SigIgn"] ?? "", radix: 16).map { $0 & 0x7FFF_FFFF } == 0, "no signal is ignored")
  }

  @Test func aProgramGivenByARelativePathIsFoundFromPiswarmsFolder() throws {
    let script = folder.write("hello.sh", "#!/bin/sh\npwd\n")
    chmod(script, 0o755)
    let relative = String(repeating: "../", count: 8) + String(script.dropFirst())
    let output = try Command(relative, [], directory: "/").check()
    #expect(output.stdoutText == "/\n")
  }
}

@Suite struct DeadlineTests {
  @Test func aDeadlineCountsDownOnTheMonotonicClock() {
    #expect(Deadline(in: 0).hasPassed)
    #expect(Deadline(in: -5).hasPassed)
    let later = Deadline(in: 10)
    #expect(!later.hasPassed)
    #expect(later.secondsLeft > 9 && later.secondsLeft <= 10)
    #expect(later.pollTimeout() == 1000)
    #expect(later.pollTimeout(cap: 30) > 9000)
    #expect(Deadline(in: 0).pollTimeout() == 0)
    #expect(Deadline(in: 0) < later)
    #expect(Deadline(in: 0).extended(by: 10).secondsLeft > 9)
  }

  @Test func aStopwatchMeasuresElapsedTime() {
    let watch = Stopwatch()
    usleep(50_000)
    #expect(watch.seconds >= 0.05 && watch.seconds < 5)
  }
}
