import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `--file` and `--state-dir` are declared once, on the root command: they may come before the
/// subcommand, after it, as `--file=PATH` or `-f PATH`, or from the environment.
@Suite struct SharedOptionsTests {
  static let file = """
    name: elsewhere
    head:
      interface: eth1
      address: 10.42.0.250/24
      lan: dhcp
    nodes:
      - name: far01
        ip: 10.42.0.1

    """

  /// The file lives away from the working folder, whose ./cluster.yml does not exist.
  static func folder() -> (TemporaryDirectory, String) {
    let dir = TemporaryDirectory()
    return (dir, dir.write("away.yml", file))
  }

  @Test(arguments: [
    ["--file", "PATH", "node", "ls"],
    ["--file=PATH", "node", "ls"],
    ["-f", "PATH", "node", "ls"],
    ["node", "ls", "--file", "PATH"],
    ["node", "--file", "PATH", "ls"],
    ["node", "ls", "-f", "PATH"],
  ])
  func theFileOptionIsReadWhereverItStands(_ form: [String]) throws {
    let (dir, path) = Self.folder()
    let arguments = form.map { $0.replacingOccurrences(of: "PATH", with: path) }
    let result = try CLI.run(arguments, in: dir)
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    #expect(result.stdout.contains("far01"), "\(arguments): \(result.stdout)")
  }

  @Test func theFileComesFromTheEnvironmentAndTheOptionWins() throws {
    let (dir, path) = Self.folder()
    let fromEnvironment = try CLI.run(["node", "ls"], in: dir, environment: ["PISWARM_FILE": path])
    #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
    #expect(fromEnvironment.stdout.contains("far01"))
    let missing = try CLI.run(
      ["--file", dir.file("none.yml"), "node", "ls"], in: dir, environment: ["PISWARM_FILE": path])
    #expect(missing.status == 64)
    #expect(missing.stderr.contains("none.yml"), "\(missing.stderr)")
  }

  @Test(arguments: [["--state-dir", "DIR", "init", "--name", "rack1"], ["init", "--name", "rack1", "--state-dir", "DIR"]])
  func theStateDirectoryOptionIsReadWhereverItStands(_ form: [String]) throws {
    let dir = TemporaryDirectory()
    let state = dir.file("elsewhere-state")
    let arguments =
      form.map { $0.replacingOccurrences(of: "DIR", with: state) }
      + ["--interface", "eth1", "--address", "10.42.0.250/24", "--lan", "dhcp"]
    let result = try CLI.run(arguments, in: dir)
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    #expect(Files.exists(state + "/ssh/id_ed25519"), "\(arguments)")
    #expect(!Files.exists(dir.file("state")), "\(arguments): the default from the environment is not used")
  }
}
