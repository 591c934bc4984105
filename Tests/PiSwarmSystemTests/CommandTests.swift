import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `Command`: a process from an argument array run to its end, its output collected.
@Suite struct CommandTests {
  let folder = TemporaryDirectory("piswarm-command")

  @Test func theExitStatusIsTheProcesssOr128PlusItsSignal() throws {
    #expect(try Command("/bin/sh", ["-c", "exit 3"]).run().status == 3)
    #expect(try Command("/bin/sh", ["-c", "kill -TERM $$"]).run().status == 128 + SIGTERM)
    #expect(try Command("true", []).check().status == 0)
    #expect(throws: PiSwarmError.self) { try Command("false", []).check() }
  }

  @Test func stdoutAndStderrAreCapturedApart() throws {
    let output = try Command("/bin/sh", ["-c", "echo out; echo err >&2; printf 'a b'"]).run()
    #expect(output.stdoutText == "out\na b")
    #expect(output.stderrText == "err\n")
  }

  /// More than a pipe holds, both ways: stdin is fed while stdout is read.
  @Test func stdinFromDataReachesTheProcess() throws {
    let input = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    let output = try Command("cat", [], timeout: 30).run(input: input)
    #expect(output.status == 0)
    #expect(output.stdout == input)
    #expect(try Command("cat", []).run().stdout.isEmpty, "no input: stdin is /dev/null")
  }

  @Test func theProcessStartsInItsWorkingDirectory() throws {
    let output = try Command("pwd", [], directory: folder.path).run()
    #expect(output.stdoutText == folder.path + "\n")
    folder.write("here.txt", "found")
    #expect(try Command("cat", ["here.txt"], directory: folder.path).check().stdoutText == "found")
    do {
      _ = try Command("pwd", [], directory: folder.file("missing")).run()
      Issue.record("a missing folder started the process")
    } catch {
      #expect(error.message.contains(folder.file("missing")), "\(error)")
    }
  }

  @Test func theEnvironmentIsExactlyTheOneGivenOrPiswarmsOwn() throws {
    let given = try Command("/usr/bin/env", [], environment: ["PISWARM_TEST": "a b=c"]).run()
    #expect(given.stdoutText == "PISWARM_TEST=a b=c\n")
    let inherited = try Command("/usr/bin/env", []).run()
    #expect(inherited.stdoutText.contains("PATH="))
  }

  @Test func theDeadlineKillsASleep() throws {
    let started = Stopwatch()
    let output = try Command("sleep", ["30"], timeout: 0.5).run()
    #expect(output.timedOut)
    #expect(output.status == 128 + SIGKILL)
    #expect(started.seconds < 5)
    do { try Command("sleep", ["30"], timeout: 0.2).check() } catch {
      #expect(error.message.contains("did not finish within"), "\(error)")
    }
  }

  /// A grandchild outside the killed child's group (here: in piswarm's) keeps the pipe open;
  /// the caller still gets its answer a moment after the deadline, not when the grandchild ends.
  @Test func aGrandchildHoldingThePipeDoesNotOutwaitTheDeadline() throws {
    let started = Stopwatch()
    let output = try Command("/bin/sh", ["-c", "sleep 20 & echo $!; wait"], timeout: 0.5).run()
    if let grandchild = pid_t(output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) {
      Processes.signal(grandchild, SIGKILL)
    }
    #expect(output.timedOut)
    #expect(started.seconds < 10)
  }

  /// piswarm ignores SIGPIPE; its children must not: `yes | head -c 1` ends `yes` by SIGPIPE
  /// (141) instead of a write error it reports, or an endless loop in a program that ignores it.
  @Test func childrenStartWithSIGPIPEAtItsDefault() throws {
    Signals.ignoreBrokenPipes()
    let output = try Command("/bin/sh", ["-c", "(yes; echo \"yes ended $?\" >&2) | head -c 1"], timeout: 30).run()
    #expect(output.stdoutText == "y")
    #expect(output.stderrText == "yes ended 141\n")
    let status = try Command("cat", ["/proc/self/status"]).check().stdoutText
    let ignored = status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
    let mask = UInt64(ignored?.split(separator: "\t").last ?? "", radix: 16)
    #expect(mask.map { $0 & (1 << (UInt64(SIGPIPE) - 1)) } == 0, "SigIgn: \(mask.map { String($0, radix: 16) } ?? "?")")
  }

  @Test func outputOverTheLimitIsCutAndTheProcessStopped() throws {
    var command = Command("yes", [], timeout: 30)
    command.outputLimit = 1000
    let output = try command.run()
    #expect(output.truncated)
    #expect(output.stdout.count == 1000)
    #expect(output.status == 128 + SIGKILL)
  }

  @Test func aProgramNotOnPathIsNamed() {
    do {
      _ = try Command("piswarm-no-such-program", []).run()
      Issue.record("started")
    } catch {
      #expect(error.message.contains("piswarm-no-such-program is not installed"), "\(error)")
    }
  }
}
