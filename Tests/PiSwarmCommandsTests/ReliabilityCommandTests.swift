import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// piswarm survives a reader that goes away, and refuses a hook binary others could replace.
@Suite struct ReliabilityCommandTests {
  /// `piswarm node ls | head -0`: the reader is gone before piswarm writes. piswarm must not die
  /// of SIGPIPE (exit 141); a command whose output nobody reads still finishes.
  @Test func aClosedStdoutDoesNotKillPiswarm() throws {
    let dir = TemporaryDirectory()
    dir.write("cluster.yml", validFile)
    // `true` reads nothing and exits at once; piswarm starts writing a second later.
    let script = "{ sleep 1; \"$@\"; echo \"status=$?\" >&2; } | true"
    var environment = ProcessInfo.processInfo.environment
    environment["PISWARM_FILE"] = dir.file("cluster.yml")
    environment["PISWARM_STATE_DIR"] = dir.file("state")
    let output = try Command(
      "/bin/sh", ["-c", script, "sh", CLI.binary, "node", "ls"], environment: environment, directory: dir.path, timeout: 60
    ).run()
    #expect(output.stderrText.contains("status=0"), "\(output.stderrText)")
  }

  /// dnsmasq runs the hook as root on every DHCP event: it must run nothing others could
  /// replace. It runs no piswarm at all, so an apply from a copy that others may write (or in a
  /// folder others may write) writes a hook that names neither that copy nor any piswarm.
  @Test(arguments: [("binary", 0o775 as mode_t, 0o755 as mode_t), ("folder", 0o755, 0o777)])
  func theHookRunsNoPiswarmBinaryOthersCouldReplace(what: String, binaryMode: mode_t, folderMode: mode_t) throws {
    guard getuid() == 0 else { return }
    let dir = TemporaryDirectory()
    chmod(dir.path, 0o755)
    dir.write("cluster.yml", NetbootCommandTests.file)
    try FileManager.default.createDirectory(atPath: dir.file("bin"), withIntermediateDirectories: true)
    let copy = dir.file("bin/piswarm")
    // By cp, not in this process: a copy written here could be open in a child another test
    // forks meanwhile ("text file busy").
    try Command("cp", [CLI.binary, copy]).check()
    chmod(copy, binaryMode)
    chmod(dir.file("bin"), folderMode)
    var environment = ProcessInfo.processInfo.environment
    environment["PISWARM_FILE"] = dir.file("cluster.yml")
    environment["PISWARM_STATE_DIR"] = dir.file("state")
    environment["HOME"] = dir.path
    let output = try Command(
      copy, ["netboot", "apply", "--files-only", "--no-roots"], environment: environment, directory: dir.path, timeout: 60
    ).run()
    #expect(output.status == 0, "\(what): \(output.stderrText)")
    let hook = try #require(dir.read("state/netboot/dnsmasq-hook"))
    #expect(!hook.contains(copy) && !hook.contains("netboot hook") && !hook.contains(CLI.binary), "\(hook)")
    #expect(hook.contains("\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n"))
  }

  /// The same apply from a root-owned 0755 copy works (what `make test` relies on).
  @Test func applyAcceptsARootOwnedHookBinary() throws {
    guard getuid() == 0 else { return }
    let dir = TemporaryDirectory()
    chmod(dir.path, 0o755)
    dir.write("cluster.yml", NetbootCommandTests.file)
    let result = try CLI.run(["netboot", "apply", "--files-only", "--no-roots"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Files.exists(dir.file("state/netboot/dnsmasq-hook")))
  }

  /// dnsmasq's log grows with every request: the hook keeps it under its cap, the last
  /// generation kept beside it, and boot events are read from both.
  @Test func theHookRotatesABigDnsmasqLog() throws {
    let dir = TemporaryDirectory()
    let log = dir.file("state/netboot/dnsmasq.log")
    try FileManager.default.createDirectory(atPath: dir.file("state/netboot"), withIntermediateDirectories: true)
    let line = "Jan  1 00:00:00 dnsmasq-dhcp[1]: 123 available DHCP subnet: 10.42.0.0/255.255.255.0\n"
    let big = String(repeating: line, count: (9 << 20) / line.utf8.count)
    try big.write(toFile: log, atomically: false, encoding: .utf8)
    let result = try CLI.run(
      ["--state-dir", dir.file("state"), "netboot", "hook", "--", "tftp", "12", "10.42.0.1", "/t/x"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let size = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? -1
    #expect(size == 0, "the log is still \(size) bytes")
    #expect(FileManager.default.contents(atPath: log + ".1")?.count == big.utf8.count)
  }
}
