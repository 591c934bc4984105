import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm secret set|ls|rm`, run as a user would: values come in on stdin, only names come out.
@Suite struct SecretCommandTests {
  func piswarm(_ arguments: [String], in dir: TemporaryDirectory, stdin: String? = nil) throws -> CLI.Result {
    var environment = ProcessInfo.processInfo.environment
    environment["PISWARM_FILE"] = nil
    environment["PISWARM_STATE_DIR"] = dir.file("state")
    environment["HOME"] = dir.path
    let output = try Command(CLI.binary, arguments, environment: environment, directory: dir.path, timeout: 60)
      .run(input: stdin.map { Data($0.utf8) })
    return CLI.Result(status: output.status, stdout: output.stdoutText, stderr: output.stderrText)
  }

  @Test func setListRemoveWithoutEverShowingAValue() throws {
    let dir = TemporaryDirectory()
    let value = "v4lue-\(UUID().uuidString)"
    var outputs: [String] = []
    func run(_ arguments: [String], stdin: String? = nil) throws -> CLI.Result {
      let result = try piswarm(arguments, in: dir, stdin: stdin)
      outputs += [result.stdout, result.stderr]
      return result
    }

    let set = try run(["secret", "set", "poe-community"], stdin: value + "\n")
    #expect(set.status == 0, "\(set.stderr)")
    #expect(set.stdout == "stored secret poe-community\n")
    #expect(try SecretStore(stateDirectory: dir.file("state")).secret("poe-community").value == value)
    #expect(try run(["secret", "set", "bmc"], stdin: "pw-\(value)").status == 0)
    #expect(try SecretStore(stateDirectory: dir.file("state")).secret("bmc").value == "pw-\(value)")

    #expect(try run(["secret", "ls"]).stdout == "NAME\nbmc\npoe-community\n")
    let json = try run(["secret", "ls", "--json"])
    #expect(
      JSONValue.parse(json.stdout) == .array([.object(["name": .string("bmc")]), .object(["name": .string("poe-community")])]))

    let missing = try run(["secret", "rm", "poe-comunity"])
    #expect(missing.status == 64)
    #expect(missing.stderr.contains("no secret named poe-comunity") && missing.stderr.contains("poe-community"))
    #expect(try run(["secret", "rm", "bmc"]).stdout == "removed secret bmc\n")
    #expect(try run(["secret", "ls"]).stdout == "NAME\npoe-community\n")

    // Bad input changes nothing.
    let empty = try run(["secret", "set", "empty"], stdin: "")
    #expect(empty.status == 64 && empty.stderr.contains("no value for secret empty"))
    let badName = try run(["secret", "set", "Bad/Name"], stdin: value)
    #expect(badName.status == 64 && badName.stderr.contains("is not a secret name"))
    #expect(try SecretStore(stateDirectory: dir.file("state")).all().keys.sorted() == ["poe-community"])

    // There is no way to read a value back, and none reached output or the journal.
    #expect(try run(["secret", "get", "poe-community"]).status != 0)
    #expect(try run(["secret", "show", "poe-community"]).status != 0)
    for output in outputs { #expect(!output.contains(value)) }
    let enumerator = FileManager.default.enumerator(atPath: dir.file("state"))
    var files = 0
    while let name = enumerator?.nextObject() as? String {
      guard name != SecretsFile.name else { continue }
      let data = FileManager.default.contents(atPath: dir.file("state/\(name)")) ?? Data()
      #expect(data.range(of: Data(value.utf8)) == nil, "the value is in state/\(name)")
      files += 1
    }
    #expect(files > 0)
    var info = stat()
    #expect(stat(dir.file("state/secrets"), &info) == 0 && info.st_mode & 0o777 == 0o600)
  }

  /// Drives `piswarm secret set` on a pseudo-terminal (python3's pty): the value typed at both
  /// prompts is stored and never echoed.
  static let typist = """
    import os, pty, sys
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    out = b""
    def read_until(marker):
        global out
        while marker not in out:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
    value = os.environ["TYPED"].encode() + b"\\n"
    read_until(b"(not shown): ")
    os.write(fd, value)
    read_until(b"again: ")
    os.write(fd, value)
    read_until(b"\\x00never")
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))
    """

  @Test(.enabled(if: Command.resolve("python3") != nil))
  func aTerminalIsAskedTwiceWithoutEcho() throws {
    let dir = TemporaryDirectory()
    let value = "typed-\(UUID().uuidString)"
    var environment = ProcessInfo.processInfo.environment
    environment["PISWARM_FILE"] = nil
    environment["PISWARM_STATE_DIR"] = dir.file("state")
    environment["TYPED"] = value
    let output = try Command(
      "python3", ["-c", Self.typist, CLI.binary, "secret", "set", "typed"], environment: environment, timeout: 60
    ).run()
    #expect(output.status == 0, "\(output.stdoutText) \(output.stderrText)")
    #expect(output.stdoutText.contains("value for secret typed (not shown): "))
    #expect(output.stdoutText.contains("stored secret typed"))
    #expect(!output.stdoutText.contains(value))
    #expect(try SecretStore(stateDirectory: dir.file("state")).secret("typed").value == value)
  }
}
