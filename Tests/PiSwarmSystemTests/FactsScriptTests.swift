import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// facts.sh's Raspberry Pi branch, run by /bin/sh with a stand-in `vcgencmd` on PATH: the
/// throttling flags, the bootloader configuration (one line, ';' between its lines) and the
/// MTU come out as NodeFacts reads them.
@Suite struct FactsScriptTests {
  @Test func thePiBranchReportsThrottlingTheBootloaderConfigurationAndTheMTU() throws {
    let dir = TemporaryDirectory("piswarm-facts")
    try FileManager.default.createDirectory(atPath: dir.file("bin"), withIntermediateDirectories: true)
    let tool = dir.write(
      "bin/vcgencmd",
      """
      #!/bin/sh
      case "$1" in
        get_throttled) echo "throttled=0x50005" ;;
        bootloader_config) printf '[all]\\nBOOT_UART=0\\nBOOT_ORDER=0xf21\\nTFTP_PREFIX=0\\n' ;;
      esac

      """)
    chmod(tool, 0o755)
    let output = try Command(
      "/bin/sh", ["-c", NodeFacts.script.text],
      environment: ["PATH": dir.file("bin") + ":/usr/sbin:/usr/bin:/sbin:/bin"], timeout: 30
    ).run()
    #expect(output.status == 0, "\(output.stderrText)")
    let facts = NodeFacts.parse(output.stdoutText)
    #expect(facts["throttled"] == "0x50005")
    #expect(facts["bootloader_config"] == "BOOT_UART=0;BOOT_ORDER=0xf21;TFTP_PREFIX=0;", "\(output.stdoutText)")
    let config = EEPROMConfig(settings: ["BOOT_ORDER": "0xf21", "TFTP_PREFIX": "0"])
    #expect(config.isReported(by: try #require(facts["bootloader_config"])))
    #expect(facts["mtu"].flatMap { Int($0) } != nil, "\(output.stdoutText)")
    // What the root is on (a card's partition for boot: sd, an NFS export for netboot).
    let root = try Command("findmnt", ["-n", "-o", "SOURCE,FSTYPE", "/"]).check().stdoutText
    let words = root.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(facts["root"] == words, "\(output.stdoutText)")
  }
}
