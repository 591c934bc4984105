import Foundation
import Testing

@testable import PiSwarmCore

/// Text from the LAN, nodes and images, made safe for a terminal.
@Suite struct TerminalTextTests {
  @Test(arguments: [
    ("PXEClient\u{1b}[2K\u{1b}[1A", "PXEClient\\x1b[2K\\x1b[1A"),
    ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
    ("bell\u{07} del\u{7f} csi\u{9b}2J", "bell\\x07 del\\x7f csi\\x9b2J"),
    ("evil\u{202e}txt.exe", "evil\\u{202e}txt.exe"),
    ("isolate\u{2066}x\u{2069} sep\u{2028}", "isolate\\u{2066}x\\u{2069} sep\\u{2028}"),
    ("Debian GNU/Linux 12 (bookworm) – ünïcödé 🍓", "Debian GNU/Linux 12 (bookworm) – ünïcödé 🍓"),
    ("", ""),
  ])
  func escapesControls(_ raw: String, _ shown: String) {
    #expect(TerminalText.escaped(raw) == shown)
    #expect(raw.terminalSafe == shown)
    #expect(TerminalText.escaped(shown) == shown, "escaping twice changes nothing")
  }

  @Test func linesKeepLineFeedsAndTabs() {
    #expect(
      TerminalText.lines("node01: up\tok\nnode02: \u{1b}]0;pwned\u{07}\r\n") == "node01: up\tok\nnode02: \\x1b]0;pwned\\x07\\r\n")
  }

  @Test func jsonStaysTheSameJSON() throws {
    struct Row: Codable, Equatable { var vendor: String }
    let row = Row(vendor: "PXE\u{1b}[2K\u{9b}1A\u{7f}\u{202e}\u{2028}é\n")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let text = TerminalText.json(String(decoding: try encoder.encode(row), as: UTF8.self))
    #expect(!text.unicodeScalars.contains { TerminalText.needsEscape($0) && $0 != "\n" }, "\(text.debugDescription)")
    #expect(text.contains("\\u009b") && text.contains("\\u202e") && text.contains("é"))
    #expect(try JSONDecoder().decode(Row.self, from: Data(text.utf8)) == row)
  }

  @Test func tablesShowCellsEscapedAndAligned() {
    let table = TextTable.render(
      header: ["MAC", "VENDOR CLASS", "PI"], rows: [["00:11", "PXE\u{1b}[1A\nx", "no"], ["b8:27", "-", "yes"]])
    #expect(table == "MAC    VENDOR CLASS   PI\n00:11  PXE\\x1b[1A\\nx  no\nb8:27  -              yes\n")
  }

  @Test func vendorClassesAreStoredEscaped() throws {
    let event = try #require(
      BootEvent.fromHook(
        ["add", "00:11:22:33:44:55", "10.42.0.9"], environment: ["DNSMASQ_VENDOR_CLASS": "PXEClient\u{1b}[2K"], time: Date()))
    #expect(event.vendorClass == "PXEClient\\x1b[2K")
    let log =
      "Nov 22 05:29:03 dnsmasq-dhcp[12]: 77 vendor class: PXEClient\u{1b}[1A\u{9b}\nNov 22 05:29:03 dnsmasq-dhcp[12]: 77 PXE(eth0) 00:11:22:33:44:55 proxy\n"
    let events = DnsmasqLog.events(log, now: Date())
    #expect(events.first?.vendorClass == "PXEClient\\x1b[1A\\x9b", "\(events)")
  }
}
