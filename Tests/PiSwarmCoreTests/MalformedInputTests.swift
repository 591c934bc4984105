import Testing

@testable import PiSwarmCore

@Suite struct MalformedInputTests {
  func only(_ bytes: [UInt8]) -> Diagnostic? {
    let decoded = ClusterFile.decode(bytes: bytes)
    #expect(decoded.cluster == nil)
    #expect(decoded.diagnostics.count == 1, "\(decoded.diagnostics)")
    return decoded.diagnostics.first
  }

  func only(_ text: String) -> Diagnostic? { only(Array(text.utf8)) }

  @Test func emptyFile() {
    #expect(only("")?.message.contains("the file is empty") == true)
    #expect(only("  \n\n")?.message.contains("the file is empty") == true)
    #expect(only("")?.location == .start)
  }

  @Test func onlyComments() {
    #expect(only("# nothing here\n")?.message.contains("holds only comments") == true)
  }

  @Test func tabsInIndentation() {
    let diagnostic = only("name: a\nhead:\n\tinterface: eth0\n")
    #expect(diagnostic?.location == SourceLocation(line: 3, column: 1))
    #expect(diagnostic?.message.contains("tab character") == true)
  }

  @Test func badIndentation() {
    let diagnostic = only("name: a\nhead:\n  interface: eth0\n address: 10.0.0.1/24\n")
    #expect(diagnostic?.location.line == 4)
    #expect(diagnostic?.message.hasPrefix("malformed YAML") == true)
  }

  @Test func mappingValueOnAValue() {
    let diagnostic = only("name: a\nhead:\n  interface: eth0\n    address: 10.0.0.1/24\n")
    #expect(diagnostic?.location.line == 4)
    #expect(diagnostic?.message.contains("indentation") == true)
  }

  @Test func binaryData() {
    let diagnostic = only([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00])
    #expect(diagnostic?.message.contains("not a text file (a NUL byte at byte 7)") == true)
    #expect(diagnostic?.location == SourceLocation(line: 1, column: 8))
  }

  @Test func notUTF8() {
    let diagnostic = only(Array("name: a\nhead: ".utf8) + [0xFF, 0xFE, 0x41])
    #expect(diagnostic?.message.contains("not UTF-8") == true)
    #expect(diagnostic?.location == SourceLocation(line: 2, column: 7))
  }

  @Test func controlCharacter() {
    let diagnostic = only("name: a\u{7}\n")
    #expect(diagnostic?.message.contains("cannot read the file") == true)
    #expect(diagnostic?.location.line == 1)
  }

  @Test func notAMapping() {
    #expect(only("- a\n- b\n")?.message.contains("a cluster file is a mapping") == true)
    #expect(only("just words\n")?.message.contains("a cluster file is a mapping") == true)
  }

  @Test func duplicateKeys() {
    let diagnostic = only("name: a\nname: b\nhead: {interface: eth0, address: 10.0.0.1/24}\n")
    #expect(diagnostic?.message.contains("key \"name\" appears twice") == true)
  }

  @Test func aliasesAreCheckedLikeTheirAnchor() {
    // Yams resolves `*h` to a copy of the anchored node, so it is checked where it is used.
    let decoded = ClusterFile.decode(text: "name: a\nhead: &h {interface: eth0, address: 10.0.0.1/24}\nssh: *h\n")
    #expect(decoded.cluster == nil)
    #expect(decoded.diagnostics.contains { $0.message.contains("unknown key \"interface\" in ssh") })
  }

  @Test func missingRequiredSections() {
    let decoded = ClusterFile.decode(text: "nodes: []\n")
    #expect(decoded.diagnostics.contains { $0.message.contains("needs \"name\"") })
    #expect(decoded.diagnostics.contains { $0.message.contains("needs a \"head\" section") })
  }

  @Test func aByteOrderMarkIsAccepted() {
    let decoded = ClusterFile.decode(
      bytes: [0xEF, 0xBB, 0xBF] + Array("name: a\nhead: {interface: eth0, address: 10.0.0.1/24}\n".utf8))
    #expect(decoded.cluster?.name == "a")
  }
}

@Suite struct ParsingTests {
  @Test(arguments: [
    ("node[02-10]", 9, "node02", "node10"), ("n[1-3]x", 3, "n1x", "n3x"), ("pi[008-010]", 3, "pi008", "pi010"),
    ("a[5-5]", 1, "a5", "a5"),
  ])
  func ranges(pattern: String, count: Int, first: String, last: String) throws {
    let range = try #require(try HostRange.parse(pattern)?.get())
    #expect(range.count == count)
    #expect(range.names.first == first)
    #expect(range.names.last == last)
  }

  @Test(arguments: ["node[10-02]", "node[a-b]", "node[1-2", "node1-2]", "n[1-2][3-4]", "n[0-99999]"])
  func badRanges(pattern: String) {
    guard case .failure? = HostRange.parse(pattern) else {
      Issue.record("\(pattern) parsed")
      return
    }
  }

  @Test func noBracketsIsNotARange() { #expect(HostRange.parse("node01") == nil) }

  @Test(arguments: ["1.2.3.4", "255.255.255.255", "0.0.0.0"])
  func goodAddresses(text: String) { #expect(IPv4Address(text)?.description == text) }

  @Test(arguments: ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "", "1..2.3", " 1.2.3.4"])
  func badAddresses(text: String) { #expect(IPv4Address(text) == nil) }

  @Test func interfaces() throws {
    let head = try #require(IPv4Interface("192.168.50.1/24"))
    #expect(head.network.description == "192.168.50.0")
    #expect(head.broadcast.description == "192.168.50.255")
    #expect(head.netmask.description == "255.255.255.0")
    #expect(head.isHost(IPv4Address("192.168.50.254")!))
    #expect(!head.isHost(IPv4Address("192.168.50.255")!))
    #expect(!head.contains(IPv4Address("192.168.51.1")!))
    #expect(IPv4Interface("10.0.0.1/0") == nil)
    #expect(IPv4Interface("10.0.0.1/024") == nil)
  }

  @Test func macs() throws {
    let mac = try #require(MACAddress("B8-27-EB-0A-0B-FF"))
    #expect(mac.description == "b8:27:eb:0a:0b:ff")
    #expect(mac.dashed == "b8-27-eb-0a-0b-ff")
    #expect(mac.advanced(by: 1)?.description == "b8:27:eb:0a:0c:00")
    #expect(mac.isRaspberryPi)
    #expect(MACAddress("b8:27:eb:0a:0b") == nil)
    #expect(MACAddress("b8:27:eb:0a:0b:0g") == nil)
    #expect(MACAddress("b8:27:eb:ff:ff:ff")?.advanced(by: 1) == nil)
  }

  @Test(arguments: [("8G", UInt64(8) << 30), ("512MiB", 512 << 20), ("1t", 1 << 40), ("100", 100), ("4GB", 4 << 30)])
  func sizes(text: String, bytes: UInt64) { #expect(ByteSize(text)?.bytes == bytes) }

  @Test(arguments: ["", "G", "8X", "-1G", "99999999999999999999G", "1.5G"])
  func badSizes(text: String) { #expect(ByteSize(text) == nil) }

  @Test func sizeDescriptions() {
    #expect(ByteSize("8192M")?.description == "8G")
    #expect(ByteSize("1536M")?.description == "1536M")
  }

  @Test(arguments: [
    ("root", DockerStorage.root), ("loopfile:16G", .loopfile(.gibibytes(16))), ("tmpfs:512M", .tmpfs(ByteSize(bytes: 512 << 20))),
    ("device:/dev/mmcblk0p3", .device("/dev/mmcblk0p3")),
  ])
  func storage(text: String, expected: DockerStorage) throws {
    #expect(try DockerStorage.parse(text).get() == expected)
    #expect(expected.description == text)
  }

  @Test(arguments: ["root:x", "loopfile", "loopfile:", "tmpfs:0", "device:", "device:/tmp/x", "nfs"])
  func badStorage(text: String) {
    guard case .failure = DockerStorage.parse(text) else {
      Issue.record("\(text) parsed")
      return
    }
  }

  @Test(
    arguments: [
      ("node01", nil), ("Node01", "lowercase"), ("node_1", "'_'"), ("-node", "start or end"), ("", "empty"),
      (String(repeating: "a", count: 64), "63"),
    ] as [(String, String?)])
  func hostNames(name: String, problem: String?) {
    let found = HostName.problem(with: name)
    if let problem { #expect(found?.contains(problem) == true, "\(found ?? "nil")") } else { #expect(found == nil) }
  }

  @Test func suggestions() {
    #expect(Suggestion.closest(to: "interfce", in: ["interface", "address"]) == "interface")
    #expect(Suggestion.closest(to: "zzzzzz", in: ["interface", "address"]) == nil)
    #expect(Suggestion.editDistance("kitten", "sitting") == 3)
  }

  @Test(arguments: [
    ("node01", "node01"), ("b8:27:eb:00:00:01", "b8:27:eb:00:00:01"), ("12:34:56:78:90:12", "\"12:34:56:78:90:12\""),
    ("yes", "\"yes\""), ("12", "\"12\""),
    ("192.168.1.1", "192.168.1.1"), ("a b", "\"a b\""), ("say \"hi\"", "\"say \\\"hi\\\"\""), ("1e3", "\"1e3\""),
    ("loopfile:16G", "loopfile:16G"),
  ])
  func yamlScalars(value: String, written: String) { #expect(YAMLText.scalar(value) == written) }
}
