import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@testable import PiSwarmImages

/// What a killed run (SIGKILL: no chance to clean up) left under piswarm's temporary names is
/// swept by the next run: unmounted, removed; what a live process owns is left alone.
@Suite struct AbandonedTemporariesTests {
  @Test(
    arguments: [
      (".tmp-node02-4242", 4242), (".mnt-raspios-17", 17), (".import-os-9", 9), (".base", nil), ("node02", nil),
      (".tmp-node02-x", nil), ("tmp-node02-12", nil),
    ] as [(String, Int32?)])
  func ownersAreReadFromTemporaryNamesOnly(name: String, pid: Int32?) {
    #expect(RootMaker.temporaryOwner(name) == pid)
  }

  @Test func aKilledRunsTemporariesAreUnmountedAndRemovedAndALiveOnesKept() throws {
    let folder = TemporaryDirectory("piswarm-abandoned")
    let nfsRoot = folder.file("nfs")
    let maker = RootMaker(nfsRoot: nfsRoot, stateDirectory: folder.file("state"))
    // A process that has ended: its PID names the dead run's leftovers.
    let ended = try Command("sh", ["-c", "echo $$"]).check().stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    let copy = "\(nfsRoot)/.tmp-node02-\(ended)"
    let upper = "\(nfsRoot)/.upper/.tmp-node03-\(ended)"
    let mounted = "\(nfsRoot)/.tmp-node03-\(ended)"
    let live = "\(nfsRoot)/.tmp-node04-\(getpid() == 1 ? 2 : 1)"
    for path in [copy + "/etc", upper + "/upper", mounted, live, nfsRoot + "/node05/etc"] {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    try "half a copy".write(toFile: copy + "/etc/hostname", atomically: true, encoding: .utf8)
    try Command("mount", ["-t", "tmpfs", "-o", "size=1m", "piswarm-test-abandoned", mounted]).check()
    defer { if Filesystems.isMountPoint(mounted) { _ = try? Command("umount", ["-l", mounted]).run() } }
    try "inside the mount".write(toFile: mounted + "/file", atomically: true, encoding: .utf8)

    let swept = maker.sweepAbandoned()
    #expect(Set(swept) == [copy, upper, mounted])
    #expect(!Filesystems.isMountPoint(mounted))
    for path in [copy, upper, mounted] { #expect(!FileManager.default.fileExists(atPath: path), "\(path)") }
    // PID 1 (or 2) lives: another run's work is not ours to remove. A node's root is no temporary.
    #expect(FileManager.default.fileExists(atPath: live))
    #expect(FileManager.default.fileExists(atPath: nfsRoot + "/node05/etc"))
    #expect(maker.sweepAbandoned().isEmpty)
  }
}
