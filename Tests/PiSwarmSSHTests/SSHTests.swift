import Foundation
import PiSwarmCore
import PiSwarmSSH
import Synchronization
import Testing

@Suite struct SSHInvocationTests {
  let ssh = SSHInvocation(
    user: "root", host: "10.0.0.5", key: "/s/ssh/id_ed25519", knownHosts: "/s/known_hosts", controlDirectory: "/s/ssh")

  @Test func pinsKeysNeverUsesPasswordsAndMultiplexes() {
    let words = ssh.arguments(remote: ["echo", "a b", "$HOME"])
    let joined = words.joined(separator: " ")
    for option in [
      "BatchMode=yes", "PasswordAuthentication=no", "KbdInteractiveAuthentication=no", "StrictHostKeyChecking=yes",
      "UserKnownHostsFile=/s/known_hosts", "GlobalKnownHostsFile=/dev/null", "IdentityFile=/s/ssh/id_ed25519",
      "IdentitiesOnly=yes", "ControlMaster=auto", "ControlPath=/s/ssh/root@10.0.0.5", "ControlPersist=300",
    ] {
      #expect(joined.contains(option), "\(option)")
    }
    #expect(words.starts(with: ["-F", "/dev/null"]))
    #expect(Array(words.suffix(3)) == ["10.0.0.5", "--", "echo 'a b' '$HOME'"])
  }

  @Test func trustNewOnlyAcceptsNewKeys() {
    var trusting = ssh
    trusting.trustNew = true
    #expect(trusting.options.contains("StrictHostKeyChecking=accept-new"))
    #expect(!trusting.options.contains("StrictHostKeyChecking=no"))
  }

  @Test(
    arguments: [
      (0, "", false, nil), (1, "", false, SSHFailure.commandFailed),
      (255, "ssh: connect to host 10.0.0.5 port 22: Connection refused", false, .unreachable),
      (255, "ssh: connect to host 10.0.0.5 port 22: Connection timed out", false, .unreachable),
      (
        255, "@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.", false,
        .hostKeyChanged
      ),
      (
        255, "No ED25519 host key is known for 10.0.0.5 and you have requested strict checking.\nHost key verification failed.",
        false, .hostKeyUnknown
      ),
      (255, "root@10.0.0.5: Permission denied (publickey).", false, .authenticationFailed), (255, "", false, .commandFailed),
      (0, "", true, .timedOut),
    ] as [(Int32, String, Bool, SSHFailure?)])
  func classifiesFailures(status: Int32, stderr: String, timedOut: Bool, expected: SSHFailure?) {
    #expect(SSHFailure.classify(status: status, stderr: stderr, timedOut: timedOut) == expected)
  }

  @Test func changedKeyAdviceSaysWhatItMayMeanAndHowToRepin() {
    let advice = SSHFailure.hostKeyChanged.advice(node: "node01", host: "10.0.0.5", knownHosts: "/s/known_hosts")
    #expect(advice.contains("re-imaged"))
    #expect(advice.contains("intercepting"))
    #expect(advice.contains("ssh-keygen -R 10.0.0.5 -f /s/known_hosts"))
  }
}

@Suite struct TargetTests {
  let cluster = ClusterFile.decode(
    text: """
      name: t
      head: {interface: eth0, address: 10.0.0.1/24}
      defaults: {boot: preinstalled}
      swarm: {managers: 1, labels: {site: x}}
      nodes:
        - {name: node01, ip: 10.0.0.11, labels: {rack: a}}
        - {name: node02, ip: 10.0.0.12, labels: {rack: b}}
        - {name: node03, ip: 10.0.0.13, labels: {rack: a}}

      """
  ).cluster!

  @Test(arguments: [
    ("all", ["node01", "node02", "node03"]), ("managers", ["node01"]), ("workers", ["node02", "node03"]),
    ("label=rack=a", ["node01", "node03"]), ("label=site=x", ["node01", "node02", "node03"]),
    ("node02,node01", ["node02", "node01"]),
    ("node[02-03]", ["node02", "node03"]), ("node01,node01", ["node01"]), ("label=rack=z", []),
  ])
  func resolves(target: String, names: [String]) throws {
    #expect(try Targets.resolve(target, in: cluster).get().map(\.name) == names)
  }

  @Test func unknownNodeSuggests() {
    guard case .failure(let error) = Targets.resolve("node1", in: cluster) else {
      Issue.record("resolved")
      return
    }
    #expect(error.message.contains("did you mean \"node01\""))
  }
}

@Suite struct FactsTests {
  @Test func parsesKnownKeys() {
    let facts = NodeFacts.parse(
      "arch=aarch64\nmodel=Raspberry Pi 4 Model B Rev 1.4\nos=Debian GNU/Linux 12 (bookworm)\nnoise\nthrottled=0x50000\nunknown=1\ndocker=\n"
    )
    #expect(
      facts == [
        "arch": "aarch64", "model": "Raspberry Pi 4 Model B Rev 1.4", "os": "Debian GNU/Linux 12 (bookworm)",
        "throttled": "0x50000",
      ])
  }

  @Test(arguments: [
    ("0x0", "no"), ("0x50000", "under-voltage-seen,throttled-seen"), ("0x5", "under-voltage,throttled"), ("zz", "zz"),
  ])
  func throttling(hex: String, words: String) { #expect(NodeFacts.describeThrottled(hex) == words) }
}

@Suite struct FanOutTests {
  @Test func keepsOrderAndBoundsConcurrency() {
    let running = Mutex((now: 0, peak: 0))
    let results = FanOut.run(Array(0..<40), parallel: 5, skipped: { _ in -1 }) { item -> Int in
      running.withLock { state in
        state.now += 1
        state.peak = max(state.peak, state.now)
      }
      usleep(10_000)
      running.withLock { $0.now -= 1 }
      return item * 2
    }
    #expect(results == (0..<40).map { $0 * 2 })
    #expect(running.withLock { $0.peak } <= 5)
    #expect(running.withLock { $0.peak } >= 2)
  }
}
