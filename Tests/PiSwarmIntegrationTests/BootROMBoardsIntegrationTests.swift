import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// pi-bootrom's many-boards mode (`--boards FILE --out DIR`: one process, one event loop, each
/// board's sockets in its own network namespace), as the boot storm uses it, against real
/// dnsmasq serving piswarm's files: every model boots, and each board's report says what the
/// one-board mode's says of the same board (all but the times).
@Suite(.enabled(if: NetbootLab.shouldRun)) struct BootROMBoardsIntegrationTests {
  static let subnet = NetbootLab.subnet

  /// A report without its times (power-on, seconds taken, seconds since power-on).
  static func timeless(_ json: Data) throws -> NSDictionary {
    guard var report = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
      throw TestFailure("not a report: \(String(decoding: json, as: UTF8.self))")
    }
    for key in ["poweredOn", "dhcpSeconds", "bootSeconds"] { report[key] = nil }
    report["files"] = (report["files"] as? [[String: Any]])?.map { file in
      file.filter { $0.key != "seconds" && $0.key != "at" }
    }
    return report as NSDictionary
  }

  @Test func manyBoardsInOneProcessBootAsEachDoesAlone() throws {
    guard NetbootLab.require() else { return }
    let lab = try NetbootLab()
    defer {
      lab.cleanUp()
      #expect(lab.leftovers().isEmpty, "left behind: \(lab.leftovers())")
    }
    // As the storm's cluster: a Pi 3B+ known by its MAC, a Pi 4 and a Pi 5 by their serials
    // (addresses from the range).
    lab.dir.write(
      "cluster.yml",
      """
      name: romtest
      head:
        interface: br0
        address: \(Self.subnet).1/24
        lan: dhcp
        dhcp_range: \(Self.subnet).100-\(Self.subnet).150
        tftp_root: \(lab.tftpRoot)
        nfs_root: /srv/piswarm/nfs
        dnsmasq_conf: \(lab.dir.file("etc/dnsmasq.conf"))
      nodes:
        - {name: node01, ip: \(Self.subnet).41, mac: "b8:27:eb:00:00:41", model: pi3b+}
        - {name: node02, ip: \(Self.subnet).42, serial: "4a4b4c4d", model: pi4}
        - {name: node03, ip: \(Self.subnet).43, serial: "5a5b5c5e", model: pi5}
      """)
    let applied = try lab.piswarm(
      ["netboot", "apply", "--files-only", "--no-roots", "--dnsmasq-option", "no-ping", "--firmware", lab.firmware])
    #expect(applied.status == 0, "\(applied.stderrText)")
    try lab.startHeadDnsmasq()
    let boards = [
      (try lab.addBoard(1, mac: "b8:27:eb:00:00:41"), "pi3", "-"),
      (try lab.addBoard(2, mac: "dc:a6:32:00:00:42"), "pi4", "4a4b4c4d"),
      (try lab.addBoard(3, mac: "2c:cf:67:00:00:43"), "pi5", "5a5b5c5e"),
    ]

    // Each board alone, in its namespace.
    var alone: [String: NSDictionary] = [:]
    for (namespace, model, serial) in boards {
      let output = try Command(
        "nsenter",
        ["--net=/run/netns/\(namespace)", NetbootLab.bootromBinary, "--interface", "eth0", "--collect", "1", "--model", model]
          + (serial == "-" ? [] : ["--serial", serial]),
        timeout: 60
      ).run()
      #expect(output.status == 0, "\(namespace): \(output.stderrText)")
      alone[namespace] = try Self.timeless(output.stdout)
    }

    // All three in one process, which enters each namespace itself; MACs from the interfaces
    // for two of them, given for the third.
    lab.dir.write(
      "boards",
      boards.map { "\($0.0) eth0 \($0.1) \($0.2)\($0.1 == "pi3" ? " b8:27:eb:00:00:41" : "")" }.joined(separator: "\n") + "\n")
    let out = lab.dir.file("reports")
    let started = Date()
    let together = try Command(
      NetbootLab.bootromBinary,
      [
        "--boards", lab.dir.file("boards"), "--out", out, "--collect", "1", "--start-at",
        String(Date().timeIntervalSince1970 + 0.5),
      ],
      timeout: 60
    ).run()
    #expect(together.status == 0, "\(together.stderrText)")
    #expect(Date().timeIntervalSince(started) < 30)
    for (namespace, model, _) in boards {
      let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(namespace).json"))
      let report = try Self.timeless(data)
      #expect(report["booted"] as? Bool == true, "\(model): \(report)")
      #expect(report == alone[namespace], "\(model) together: \(report)\nalone: \(alone[namespace] ?? [:])")
      // The same moment of power-on for all, and the times are there.
      let full = try JSONSerialization.jsonObject(with: data) as? [String: Any]
      #expect((full?["bootSeconds"] as? Double ?? 0) > 0, "\(model)")
    }
    // The kernels came whole, by the board's own folder.
    let pi5 = try Self.timeless(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(boards[2].0).json")))
    let kernel = (pi5["files"] as? [[String: Any]])?.last { ($0["name"] as? String) == "5a5b5c5e/kernel_2712.img" }
    #expect(kernel?["bytes"] as? Int == NetbootLab.size("kernel_2712.img"), "\(pi5)")
    // A board file that names a namespace that is not there: that board's report says so, the
    // status is 1, nothing else is touched.
    lab.dir.write("bad-boards", "psnb-\(lab.id)-nothere eth0 pi4\n")
    let bad = try Command(
      NetbootLab.bootromBinary, ["--boards", lab.dir.file("bad-boards"), "--out", out, "--collect", "0.2"], timeout: 30
    ).run()
    #expect(bad.status == 1)
    let badReport = try String(contentsOfFile: "\(out)/psnb-\(lab.id)-nothere.json", encoding: .utf8)
    #expect(badReport.contains("cannot open the network namespace /run/netns/psnb-\(lab.id)-nothere"), "\(badReport)")
  }
}
