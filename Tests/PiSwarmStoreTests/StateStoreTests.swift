import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@Suite struct StateStoreTests {
  @Test func migratesAndKeepsRunsStepsEventsAndFacts() throws {
    let dir = TemporaryDirectory()
    let store = try SQLiteStateStore(stateDirectory: dir.path)
    #expect(try store.appliedMigrations() == ["1-initial", "3-images", "4-swarm-state", "5-root-generations"])
    let run = try store.beginRun(command: "piswarm up")
    let start = Date()
    try store.recordStep(StepRecord(runID: run, node: "node01", step: "docker", status: "ok", startedAt: start, endedAt: start))
    try store.recordStep(
      StepRecord(runID: run, node: "node02", step: "docker", status: "failed", startedAt: start, error: "unreachable"))
    try store.endRun(run, status: .failed)
    try store.recordEvent(EventRecord(time: start, node: "node01", kind: "dhcp", detail: "offer 10.0.0.1"))
    try store.recordEvent(EventRecord(time: start, node: nil, kind: "init", detail: "wrote cluster.yml"))
    try store.setFacts(node: "node01", facts: ["arch": "arm64", "kernel": "6.6"], at: start)
    try store.setFacts(node: "node01", facts: ["kernel": "6.12"], at: start)

    // A second open of the same file sees it all and re-runs no migration.
    let again = try SQLiteStateStore(stateDirectory: dir.path)
    #expect(try again.appliedMigrations() == ["1-initial", "3-images", "4-swarm-state", "5-root-generations"])
    let runs = try again.runs(limit: 10)
    #expect(runs.count == 1)
    #expect(runs.first?.status == .failed)
    #expect(runs.first?.endedAt != nil)
    #expect(runs.first?.pid == getpid())
    let steps = try again.steps(run: run)
    #expect(steps.map(\.node) == ["node01", "node02"])
    #expect(steps.last?.error == "unreachable")
    #expect(try again.events(node: "node01", limit: 10).map(\.kind) == ["dhcp"])
    #expect(try again.events(node: nil, limit: 10).count == 2)
    let facts = try again.facts(node: "node01")
    #expect(facts.map(\.name) == ["arch", "kernel"])
    #expect(facts.last?.value == "6.12")
  }

  @Test func anUnwritablePlaceIsAClearError() {
    #expect {
      try SQLiteStateStore(path: "/proc/piswarm-no/state.sqlite")
    } throws: { error in
      (error as? PiSwarmError)?.message.contains("cannot open the state store /proc/piswarm-no/state.sqlite") == true
    }
  }
}

@Suite struct StateLockTests {
  @Test func aSecondHolderFailsAtOnceNamingTheFirst() throws {
    let dir = TemporaryDirectory()
    let lock = try StateLock.acquire(stateDirectory: dir.path, command: "piswarm up --parallel 8")
    let started = Date()
    #expect {
      try StateLock.acquire(stateDirectory: dir.path, command: "piswarm node add x")
    } throws: { error in
      guard let error = error as? PiSwarmError else { return false }
      return error.code == .locked && error.message.contains("PID \(getpid())")
        && error.message.contains("'piswarm up --parallel 8'")
    }
    #expect(Date().timeIntervalSince(started) < 1)
    lock.release()
    let next = try StateLock.acquire(stateDirectory: dir.path, command: "piswarm node add x")
    next.release()
  }

  @Test func atomicWritesReplaceWholeFilesAndSkipUnchangedOnes() throws {
    let dir = TemporaryDirectory()
    let path = dir.file("a.txt")
    #expect(try AtomicFile.write("one\n", to: path, mode: 0o600))
    #expect(try !AtomicFile.write("one\n", to: path))
    #expect(try AtomicFile.write("two\n", to: path))
    #expect(dir.read("a.txt") == "two\n")
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    #expect(dir.snapshot().keys.sorted() == ["a.txt"])
  }
}

@Suite struct BootEventStoreTests {
  @Test func bootEventsAreKeptBoundedNewestFirstToGo() throws {
    let dir = TemporaryDirectory()
    let store = try SQLiteStateStore(stateDirectory: dir.path)
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    for index in 0..<450 {
      try store.recordBootEvent(
        BootEvent(time: start + Double(index), kind: .tftpSent, ip: "10.42.0.11", path: "file\(index)"), keep: 200)
    }
    let kept = try store.bootEvents(limit: 10_000)
    #expect(kept.count >= 200 && kept.count < 300, "\(kept.count)")
    #expect(kept.last?.path == "file449")
    #expect(kept.first?.path != "file0")
  }
}
