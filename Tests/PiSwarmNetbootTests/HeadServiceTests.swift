import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmNetboot

/// A head service without systemd: a process piswarm starts, knows by its PID file and command
/// line, restarts and stops, and whose dying words it reports.
@Suite struct HeadServiceTests {
  static func service(_ dir: TemporaryDirectory, _ arguments: [String]) -> HeadService {
    HeadService(
      name: "piswarm-test", arguments: arguments, unit: "", pidFile: dir.file("test.pid"), log: dir.file("test.log"),
      services: FakeServices(unavailable: "systemd is not running here"))
  }

  @Test func startsRestartsAndStopsByPID() throws {
    let dir = TemporaryDirectory("piswarm-head-service")
    let sleep = try #require(Command.resolve("sleep"))
    let service = Self.service(dir, [sleep, "300"])
    defer { if let pid = service.pid { Cleanup.kill([pid]) } }
    #expect(!service.isRunning)
    try service.restart()
    let first = try #require(service.pid)
    #expect(service.isRunning && Processes.commandLine(first) == [sleep, "300"])
    try service.restart()
    let second = try #require(service.pid)
    #expect(second != first && !Processes.isAlive(first))
    // A PID file naming another program's process is not this service's.
    let other = Self.service(dir, [sleep, "301"])
    #expect(other.pid == nil)
    try service.stop()
    #expect(!service.isRunning && !Processes.isAlive(second) && !Files.exists(dir.file("test.pid")))
  }

  @Test func aServiceThatDiesAtOnceSaysWhy() throws {
    let dir = TemporaryDirectory("piswarm-head-service")
    _ = dir.write("test.log", "panic: an old run's words\n")
    let shell = try #require(Command.resolve("sh"))
    let service = Self.service(
      dir,
      [
        shell, "-c",
        "echo 'level=info msg=starting'; echo 'panic: Get \"https://upstream/v2/\": refused'; echo '  goroutine 1'; exit 2",
      ])
    #expect {
      try service.restart()
    } throws: { error in
      (error as? PiSwarmError)?.message == "piswarm-test exited as it started: panic: Get \"https://upstream/v2/\": refused"
    }
    #expect(!Files.exists(dir.file("test.pid")))
    #expect(HeadService.lastWords("") == "no output")
    #expect(HeadService.lastWords("a\nb\n") == "b")
  }
}
