import Foundation
import PiSwarmCommands
import PiSwarmTestSupport
import Testing

/// `piswarm --version`: the version and the commit a binary was built from.
@Suite struct BuildInfoTests {
  /// The version a plain `swift build` compiles in (the C header's default) is the one in the
  /// VERSION file that `make deb` passes.
  @Test func theDefaultVersionIsTheVersionFile() throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../VERSION").path
    let version = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(BuildInfo.version == version, "change PISWARM_BUILD_VERSION in CPiSwarmBuildInfo.h along with VERSION")
  }

  @Test func aBuildThatWasNotToldSaysSo() throws {
    #expect(BuildInfo.commit.isEmpty)
    let dir = TemporaryDirectory()
    let result = try CLI.run(["--version"], in: dir)
    #expect(result.status == 0)
    #expect(result.stdout == "\(BuildInfo.version) (unknown commit)\n")
  }
}
