import Testing

@testable import PiSwarmCore

/// `swarm.autolock` in cluster.yml.
@Suite struct AutolockSettingTests {
  @Test func offUnlessAsked() throws {
    #expect(try #require(decode(baseFile).cluster).swarm.autolock == false)
  }

  @Test(arguments: [("true", true), ("false", false)])
  func readsTrueAndFalse(text: String, expected: Bool) throws {
    let decoded = decode(replacing("  labels: { site: lab }\n", with: "  labels: { site: lab }\n  autolock: \(text)\n"))
    #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
    #expect(try #require(decoded.cluster).swarm.autolock == expected)
  }

  @Test(arguments: ["maybe", "yes", "1", "[true]"])
  func anythingElseIsAnErrorWhereItIs(text: String) throws {
    let decoded = decode(replacing("  labels: { site: lab }\n", with: "  labels: { site: lab }\n  autolock: \(text)\n"))
    #expect(decoded.cluster == nil)
    let error = try #require(decoded.diagnostics.errors.first)
    #expect(error.location.description == "17:13", "\(error.message)")
    #expect(error.message.contains("swarm.autolock"), "\(error.message)")
  }
}
