import Foundation
import PiSwarmCore
import PiSwarmSSH
import Testing

/// A node's outcome is an enum that code switches on; its text (in tables and `--json`) is the
/// same words as before.
@Suite struct RemoteStatusTests {
  @Test(arguments: [
    (nil, RemoteStatus.ok, "ok"), (SSHFailure.commandFailed, .failed, "failed"), (.unreachable, .unreachable, "unreachable"),
    (.hostKeyChanged, .hostKeyChanged, "host-key-changed"), (.hostKeyUnknown, .hostKeyUnknown, "host-key-unknown"),
    (.authenticationFailed, .authenticationFailed, "auth-failed"), (.timedOut, .timedOut, "timed-out"),
  ])
  func everySSHFailureHasItsStatus(failure: SSHFailure?, status: RemoteStatus, text: String) {
    #expect(RemoteStatus(failure) == status)
    #expect(status.rawValue == text)
  }

  @Test func aResultsJSONKeepsTheStatusWord() throws {
    let json = """
      {"node":"node01","host":"10.0.0.1","status":"host-key-changed","stdout":"","stderr":"","seconds":0.5,"attempts":1}
      """
    let result = try JSONDecoder().decode(NodeResult.self, from: Data(json.utf8))
    #expect(result.outcome == .hostKeyChanged)
    #expect(!result.ok)
    let encoded = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
    #expect(encoded.contains("\"status\":\"host-key-changed\""), "\(encoded)")
  }
}
