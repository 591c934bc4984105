import Crypto
import Foundation
import PiSwarmCore
import Testing

/// Public key lines come from node roots, which nodes write: parsed strictly, one key, nothing
/// more reaches a known_hosts line.
@Suite struct SSHHostKeyTests {
  static let blob = "AAAAC3NzaC1lZDI1NTE5AAAAIBiyZCX3PVQi6UxjKmwjUyUM3gwHZFIWmj5DkBkuHXxx"
  static let other = "AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf"

  @Test(arguments: [
    "ssh-ed25519 \(blob) root@node01\n",
    "ssh-ed25519 \(blob) root@node01",
    "ssh-ed25519\t\(blob)\troot@node01\n",
    "  ssh-ed25519   \(blob)  root@node01  \n",
  ])
  func parsesAKeyLine(line: String) throws {
    let key = try SSHHostKey(parsing: line)
    #expect(key.blob == Self.blob)
    #expect(key.comment == "root@node01")
    #expect(key.knownHostsLine(host: "10.0.0.1") == "10.0.0.1 ssh-ed25519 \(Self.blob)")
    #expect(key.publicKeyLine == "ssh-ed25519 \(Self.blob) root@node01\n")
  }

  @Test func aKeyWithoutCommentParses() throws {
    let key = try SSHHostKey(parsing: "ssh-ed25519 \(Self.blob)\n")
    #expect(key.comment.isEmpty && key.publicKeyLine == "ssh-ed25519 \(Self.blob)\n")
  }

  @Test(arguments: [
    ("ssh-ed25519 \(blob) x\n@cert-authority * ssh-ed25519 \(other)\n", "more than one line"),
    ("ssh-ed25519\t\(blob)\n10.0.0.2\tssh-ed25519\t\(other)\n", "more than one line"),
    ("ssh-ed25519 \(blob) x\r\n", "more than one line"),
    ("ssh-ed25519 \(blob) \u{1b}[2Kroot@node01\n", "control characters"),
    ("ssh-ed25519 \(blob) a\u{85}b\n", "control characters"),
    ("ssh-ed25519\n", "field(s)"),
    ("", "field(s)"),
    ("ssh-rsa \(blob) x\n", "the type is not ssh-ed25519"),
    ("@cert-authority ssh-ed25519 \(blob)\n", "the type is not ssh-ed25519"),
    ("ssh-ed25519 AAAAbase root@raspberrypi\n", "not a 32-byte ed25519 key"),
    ("ssh-ed25519 \(blob.dropLast(1)) x\n", "not base64"),
    ("ssh-ed25519 \(blob.dropLast(4)) x\n", "not a 32-byte ed25519 key"),
    ("ssh-ed25519 \(blob)= x\n", "not base64"),
    ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x\n", "not a 32-byte ed25519 key"),
  ])
  func refusesAnythingElse(line: String, problem: String) {
    #expect(SSHHostKey.problem(line)?.contains(problem) == true, "\(SSHHostKey.problem(line) ?? "accepted")")
    #expect(throws: PiSwarmError.self) { try SSHHostKey(parsing: line) }
  }

  /// As `ssh-keygen -l -E sha256` prints it for this key.
  @Test func fingerprintIsSHA256OfTheBlobWithoutPadding() throws {
    let key = try SSHHostKey(parsing: "ssh-ed25519 \(Self.blob) x\n")
    #expect(key.fingerprint == "SHA256:YzI+Jeku5znowLOq7fn8TeLQQd8bAfk961f/9vDJK6w")
  }

  @Test func sha256DigestAndHexAgree() {
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(Array(SHA256.hash(data: Array("abc".utf8))).prefix(2) == [0xba, 0x78])
  }
}
