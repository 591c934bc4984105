import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

@Suite struct SecretStoreTests {
  @Test func storesReadsAndRemovesSecretsIn0600() throws {
    let dir = TemporaryDirectory()
    let store = SecretStore(stateDirectory: dir.path)
    #expect(try store.all().isEmpty)
    try store.set(Secret(name: "poe-community", value: "s3cr\"et: \n#x"))
    try store.set(Secret(name: "bmc", value: "pw"))
    #expect(try store.secret("poe-community").value == "s3cr\"et: \n#x")
    #expect(try store.secret("bmc").value == "pw")
    var info = stat()
    #expect(stat(store.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
    #expect(try store.remove("bmc"))
    #expect(throws: PiSwarmError.self) { try store.secret("bmc") }
  }

  @Test func aSecretNeverPrintsItsValue() {
    let secret = Secret(name: "token", value: "hunter2")
    #expect("\(secret)" == "<secret token>")
    #expect(String(reflecting: secret) == "<secret token>")
  }

  @Test func aFileOthersCanReadIsRefused() throws {
    let dir = TemporaryDirectory()
    let store = SecretStore(stateDirectory: dir.path)
    try store.set(Secret(name: "a", value: "b"))
    chmod(store.path, 0o644)
    #expect(throws: PiSwarmError.self) { try store.all() }
  }

  @Test func namesAreChecked() {
    #expect(Secret.isValidName("poe-community.v2_x"))
    #expect(!Secret.isValidName("Bad"))
    #expect(!Secret.isValidName("-x"))
    #expect(!Secret.isValidName(""))
    #expect(!Secret.isValidName(String(repeating: "a", count: 65)))
  }
}
