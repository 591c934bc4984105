import Testing

@testable import PiSwarmCore

/// `cmdline_extra` on defaults and nodes: validated as one line, ends the node's cmdline.txt.
@Suite struct CmdlineExtraTests {
  func decode(defaults: String, node: String) -> ClusterFile.Decoded {
    ClusterFile.decode(
      text: """
        name: t
        head: { interface: eth1, address: 10.42.0.250/24 }
        defaults:
          boot: netboot
        \(defaults)
        nodes:
          - name: node01
            ip: 10.42.0.1
            mac: b8:27:eb:00:00:01
        \(node)
          - name: node02
            ip: 10.42.0.2
            mac: b8:27:eb:00:00:02
        """)
  }

  @Test func nodeValueReplacesTheDefaultAndEndsTheCommandLine() throws {
    let decoded = decode(defaults: "  cmdline_extra: quiet", node: "    cmdline_extra: \"  loglevel=7 8250.nr_uarts=1 \"")
    let cluster = try #require(decoded.cluster, "\(decoded.diagnostics)")
    #expect(cluster.nodes.map(\.cmdlineExtra) == ["loglevel=7 8250.nr_uarts=1", "quiet"])
    let line = try BootFiles.cmdline(cluster.nodes[0], in: cluster)
    #expect(line.hasSuffix("cgroup_memory=1 loglevel=7 8250.nr_uarts=1\n"))
    #expect(try BootFiles.cmdline(cluster.nodes[1], in: cluster).hasSuffix("cgroup_memory=1 quiet\n"))
  }

  @Test(arguments: [
    ("\"quiet\\nroot=/dev/sda\"", "must be one line of text"),
    ("\"a\\tb\"", "must be one line of text"),
    ("root=/dev/mmcblk0p2", "sets \"root=/dev/mmcblk0p2\", which piswarm writes itself"),
    ("nfsroot=1.2.3.4:/x", "which piswarm writes itself"),
    ("ip=10.0.0.5", "which piswarm writes itself"),
    ("[a, b]", "must be a single value"),
    ("\"quiet rootwait\"", "has \"rootwait\", a word for booting from an SD card"),
    ("resize", "has \"resize\", a word for booting from an SD card"),
    ("init=/usr/lib/raspberrypi-sys-mods/firstboot", "would run Raspberry Pi OS's first boot"),
    ("\"systemd.run=/boot/firstrun.sh\"", "a word for booting from an SD card"),
  ])
  func badValuesAreLocatedErrors(_ value: String, _ message: String) {
    let decoded = decode(defaults: "", node: "    cmdline_extra: \(value)")
    #expect(decoded.cluster == nil)
    let errors = decoded.diagnostics.filter { $0.severity == .error }
    #expect(errors.count == 1 && errors.first?.message.contains(message) == true, "\(errors)")
    #expect(errors.first?.location.line == 10)
  }

  @Test func tooLongIsAnError() {
    let decoded = decode(defaults: "  cmdline_extra: \(String(repeating: "x", count: 600))", node: "")
    #expect(decoded.diagnostics.contains { $0.message.contains("600 bytes long") })
  }
}
