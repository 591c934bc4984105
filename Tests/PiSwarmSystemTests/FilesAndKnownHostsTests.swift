import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct FilesTests {
  let folder = TemporaryDirectory("piswarm-files")

  func mode(_ path: String) -> mode_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
  }

  @Test func makeDirectorySetsTheModeOfFoldersItMakesOnly() throws {
    let existing = folder.file("private")
    try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
    chmod(existing, 0o700)
    try Files.makeDirectory(existing, mode: 0o755)
    #expect(mode(existing) == 0o700, "an existing folder is never loosened")

    let made = folder.file("a/b/c")
    try Files.makeDirectory(made, mode: 0o711)
    #expect(mode(made) == 0o711)
    #expect(mode(folder.file("a")) == 0o755)
  }

  @Test func makePrivateDirectoryTightensButNeverLoosens() throws {
    let open = folder.file("open")
    try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
    chmod(open, 0o755)
    try Files.makePrivateDirectory(open)
    #expect(mode(open) == 0o700)
    try Files.makePrivateDirectory(folder.file("new"))
    #expect(mode(folder.file("new")) == 0o700)
  }
}

@Suite struct KnownHostsTests {
  let folder = TemporaryDirectory("piswarm-known-hosts")
  var path: String { folder.file("known_hosts") }
  let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVgBTqHB9xKNvnRM9BVIJJbk7jGCGWF8hDzTNqDhaDf"

  @Test(arguments: [
    "10.0.0.1 ssh-ed25519 AAAA\n@cert-authority * ssh-ed25519 AAAA",
    "@cert-authority * ssh-ed25519 AAAA",
    "@revoked 10.0.0.1 ssh-ed25519 AAAA",
    "10.0.0.1\u{1b}[2K ssh-ed25519 AAAA",
    "10.0.0.1\tssh-ed25519\tAAAA\r",
    "10.0.0.1",
  ])
  func refusesMarkersControlCharactersAndBrokenLines(line: String) {
    #expect(throws: PiSwarmError.self) { try KnownHosts.replace(hosts: ["10.0.0.1"], with: [line], in: path) }
    #expect(!Files.exists(path))
  }

  @Test func replacesTheLinesOfAHostWhateverSeparatesTheirFields() throws {
    folder.write(
      "known_hosts",
      "10.0.0.1\tssh-ed25519 OLD\n10.0.0.2 ssh-ed25519 KEEP\n10.0.0.3,10.0.0.1 ssh-ed25519 OLD2\n")
    try KnownHosts.replace(hosts: ["10.0.0.1"], with: ["10.0.0.1 \(key)"], in: path)
    #expect(folder.read("known_hosts") == "10.0.0.2 ssh-ed25519 KEEP\n10.0.0.1 \(key)\n")
  }

  @Test func dropsMarkerLinesFromEarlierRuns() throws {
    folder.write("known_hosts", "@cert-authority * ssh-ed25519 EVIL\n10.0.0.2 ssh-ed25519 KEEP\n")
    try KnownHosts.replace(hosts: ["10.0.0.1"], with: ["10.0.0.1 \(key)"], in: path)
    #expect(folder.read("known_hosts") == "10.0.0.2 ssh-ed25519 KEEP\n10.0.0.1 \(key)\n")
  }
}
