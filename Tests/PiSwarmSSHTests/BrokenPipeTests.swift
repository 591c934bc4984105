import Foundation
import PiSwarmCore
import PiSwarmSystem
import Testing

/// A peer that goes away (a node vanishing, an ssh that died) is an error for that peer, never
/// a SIGPIPE that ends piswarm; what a peer sends is bounded.
@Suite struct BrokenPipeTests {
  /// The child closes its stdin and exits while piswarm still has input for it.
  @Test func inputForAChildThatWentAwayIsDropped() throws {
    let input = Data(repeating: 0x61, count: 4 << 20)
    let output = try Command("/bin/sh", ["-c", "exec 0<&-; sleep 0.2; echo gone"], timeout: 30).run(input: input)
    #expect(output.status == 0)
    #expect(output.stdoutText == "gone\n")
  }

  /// A conversation whose peer ended: the write fails with an error naming it.
  @Test func aConversationWhosePeerEndedFailsCleanly() throws {
    let conversation = try Conversation(["/bin/sh", "-c", "exec 0<&-; echo bye >&2; sleep 0.2"])
    usleep(500_000)
    #expect(throws: PiSwarmError.self) {
      _ = try conversation.exchange(Data(repeating: 0x61, count: 1 << 20), timeout: 5) { _ in false }
    }
    conversation.close()
  }
}

/// Output a process writes is kept up to a limit; past it the process is stopped.
@Suite struct OutputLimitTests {
  @Test func aChattyProcessIsStoppedAtTheLimitAndSaysSo() throws {
    var command = Command("/bin/sh", ["-c", "yes piswarm"], timeout: 30)
    command.outputLimit = 1 << 20
    let output = try command.run()
    #expect(output.truncated)
    #expect(output.stdout.count == 1 << 20)
    #expect(!output.timedOut)
    #expect(throws: PiSwarmError.self) { try command.check() }
    do { try command.check() } catch { #expect(error.message.contains("wrote more than 1 MiB and was stopped"), "\(error)") }
  }

  @Test func outputUnderTheLimitIsWhole() throws {
    var command = Command("/bin/sh", ["-c", "head -c 1000 /dev/zero"], timeout: 30)
    command.outputLimit = 1000
    let output = try command.run()
    #expect(!output.truncated && output.stdout.count == 1000 && output.status == 0)
  }

  @Test func aConversationAnswerOverTheLimitIsAnError() throws {
    let conversation = try Conversation(["/bin/sh", "-c", "read -r line; yes piswarm"], answerLimit: 1 << 16)
    defer { conversation.close() }
    do {
      _ = try conversation.exchange(Data("go\n".utf8), timeout: 10) { _ in false }
      Issue.record("no error")
    } catch {
      #expect(error.message.contains("over 64 KiB"), "\(error)")
    }
  }
}
