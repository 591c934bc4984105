import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `doctor` on the netboot lab's head (its namespace): piswarm's dnsmasq in lan: dhcp mode, then
/// a second DHCP server (a dnsmasq in a lab namespace standing in for a router) that doctor must
/// find and say what to do about.
@Suite(.enabled(if: NetbootLab.shouldRun)) struct DoctorIntegrationTests {
  static let subnet = NetbootLab.subnet

  struct Finding: Decodable {
    var check: String
    var place: String
    var severity: String
    var message: String
    var advice: String?
  }

  func doctor(_ lab: NetbootLab) throws -> (findings: [Finding], status: Int32) {
    let output = try lab.piswarm(["doctor", "--head-only", "--json", "--dhcp-wait", "1"], inHead: true)
    let findings = try JSONDecoder().decode([Finding].self, from: output.stdout)
    return (findings, output.status)
  }

  @Test func doctorFindsASecondDHCPServerAndSaysWhatToDo() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    lab.dir.write(
      "cluster.yml",
      """
      name: doctor
      head:
        interface: br0
        address: \(Self.subnet).1/24
        lan: dhcp
        tftp_root: \(lab.tftpRoot)
        nfs_root: \(lab.dir.file("nfs"))
        dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))
      nodes:
        - name: node01
          ip: \(Self.subnet).51
          mac: dc:a6:32:00:00:51
          model: pi4

      """)
    let applied = try lab.piswarm([
      "netboot", "apply", "--files-only", "--no-roots", "--dnsmasq-option", "no-ping", "--firmware", lab.firmware,
    ])
    #expect(applied.status == 0, "\(applied.stderrText)")
    try lab.startHeadDnsmasq()

    // piswarm's dnsmasq alone: no DHCP finding beyond ok; dnsmasq found with its file.
    let (alone, _) = try doctor(lab)
    #expect(alone.filter { $0.check == "dhcp" }.map(\.severity) == ["ok"], "\(alone)")
    // The head's br0 is read in its namespace (netlink), not in this machine's /sys.
    #expect(alone.first { $0.check == "mtu" }?.message == "br0 MTU 1500", "\(alone)")
    #expect(
      alone.first { $0.check == "dnsmasq" }?.severity == "ok", "\(alone.first { $0.check == "dnsmasq" }.map { "\($0)" } ?? "")")

    // A router's DHCP server on the same network: an error naming it, with what to do.
    try lab.addRouter()
    let (found, status) = try doctor(lab)
    #expect(status == 1)
    let dhcp = try #require(found.first { $0.check == "dhcp" }, "\(found)")
    #expect(dhcp.severity == "error" && dhcp.place == "lan")
    #expect(dhcp.message.contains("another DHCP server answers on br0: \(Self.subnet).254 (offered \(Self.subnet).1"), "\(dhcp)")
    #expect(dhcp.advice?.contains("switch that server off") == true, "\(dhcp)")
    #expect(found.first?.severity == "error", "the worst first: \(found)")
  }
}
