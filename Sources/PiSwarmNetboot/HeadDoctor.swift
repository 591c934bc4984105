import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// `doctor`'s probes of the head and the LAN; the judgements are `Doctor`'s (pure).
public enum HeadDoctor {
  /// Sends a DHCPDISCOVER (as a PXE client, so that proxy-DHCP servers answer too) from
  /// `interface` and collects the offers for `seconds`, twice.
  public static func dhcpOffers(interface: String, seconds: Double = 2) throws(PiSwarmError) -> [Doctor.Offer] {
    let socket = try UDPSocket(interface: interface, address: nil, port: 68, broadcast: true)
    let chaddr = link(interface).mac?.bytes ?? [0x02, 0, 0, 0, 0, 1]
    let xid = UInt32.random(in: 1...UInt32.max)
    let options: [(UInt8, [UInt8])] = [
      (53, [1]), (60, Array(BootEvent.piVendorClass.utf8)), (93, [0, 0]), (55, [1, 3, 43, 54, 60, 66, 67]),
    ]
    var offers: [Doctor.Offer] = []
    for _ in 0..<2 {
      try socket.send(
        DHCPMessage(xid: xid, chaddr: chaddr, options: options).bytes, to: IPv4Address(0xFFFF_FFFF), port: 67)
      let deadline = Deadline(in: seconds)
      while let (packet, from, _) = socket.receive(until: deadline) {
        guard let message = DHCPMessage(packet), message.op == 2, message.xid == xid, message.type == 2 else { continue }
        let offer = Doctor.Offer(
          server: message.address(54) ?? from, address: message.yiaddr,
          piMenu: PXEMenu.offersPiBoot(message.option(43) ?? []))
        if !offers.contains(offer) { offers.append(offer) }
      }
    }
    return offers
  }

  /// A dnsmasq that reads piswarm's configuration (named on its command line, or its folder as
  /// a conf-dir), and whether the file changed after it started.
  public static func dnsmasq(_ head: Head) -> Doctor.Finding {
    let conf = head.dnsmasqConf
    let folder = (conf as NSString).deletingLastPathComponent
    let readers = Processes.all().filter { Processes.name($0) == "dnsmasq" }.filter { pid in
      Processes.commandLine(pid).contains { word in
        word.hasSuffix(conf) || word == folder || word.hasSuffix("=" + folder) || word.hasPrefix(folder + ",")
      }
    }
    guard let pid = readers.first else {
      return Doctor.Finding(
        "dnsmasq", "head", .error, "no dnsmasq runs with piswarm's configuration \(conf)",
        advice: "run 'piswarm netboot apply' (it restarts dnsmasq), or check 'systemctl status dnsmasq'")
    }
    // The boot time is whole seconds: a start time may read up to a second early.
    if let changed = modified(conf), let started = started(pid), changed > started.addingTimeInterval(1.5) {
      return Doctor.Finding(
        "dnsmasq", "head", .warning, "\(conf) changed after dnsmasq (pid \(pid)) started: it serves the old configuration",
        advice: "restart it: 'piswarm netboot apply' or 'systemctl restart dnsmasq'")
    }
    return Doctor.Finding("dnsmasq", "head", .ok, "dnsmasq (pid \(pid)) runs with \(conf)")
  }

  /// The NFS server: the kernel's (its export table names the node roots) or nfs-ganesha.
  public static func nfs(_ cluster: Cluster) -> Doctor.Finding {
    guard cluster.nodes.contains(where: { $0.boot == .netboot }) else {
      return Doctor.Finding("nfs", "head", .ok, "no netboot nodes: no NFS server needed")
    }
    if let table = try? String(contentsOfFile: "/proc/fs/nfsd/exports", encoding: .utf8) {
      let root = HeadPath.normalized(cluster.head.nfsRoot)
      if table.contains(root) { return Doctor.Finding("nfs", "head", .ok, "the kernel NFS server exports \(root)") }
      return Doctor.Finding(
        "nfs", "head", .error, "the kernel NFS server runs but exports nothing under \(root)",
        advice: "run 'piswarm netboot apply' (it writes the exports and runs 'exportfs -ra')")
    }
    if let pid = Processes.all().first(where: { Processes.name($0).hasPrefix("ganesha.nfsd") }) {
      return Doctor.Finding("nfs", "head", .ok, "nfs-ganesha runs (pid \(pid))")
    }
    return Doctor.Finding(
      "nfs", "head", .error, "no NFS server runs on the head: netboot nodes cannot mount their roots",
      advice: "install and start one: apt-get install nfs-kernel-server (or nfs-ganesha), then 'piswarm netboot apply'")
  }

  /// Free space of the filesystem holding `path` (or its nearest existing parent).
  public static func space(_ what: String, path: String) -> Doctor.Finding {
    var existing = path
    while !Files.exists(existing) && existing != "/" { existing = (existing as NSString).deletingLastPathComponent }
    var stats = statvfs()
    guard statvfs(existing, &stats) == 0 else {
      return Doctor.Finding("space", "head", .warning, "cannot read the free space of \(path)")
    }
    let block = UInt64(stats.f_frsize)
    return Doctor.space(what, path: path, available: UInt64(stats.f_bavail) * block, total: UInt64(stats.f_blocks) * block)
  }

  /// `timedatectl show`'s output, or nil.
  public static func timedatectl() -> String? {
    guard let output = try? Command("timedatectl", ["show"], timeout: 10).run(), output.status == 0 else { return nil }
    return output.stdoutText
  }

  public static func mtu(_ interface: String) -> Int? { link(interface).mtu }

  /// An interface's MTU and MAC address from `ip -o link show` (netlink: right in a network
  /// namespace entered without its own /sys).
  static func link(_ interface: String) -> (mtu: Int?, mac: MACAddress?) {
    guard let output = try? Command("ip", ["-o", "link", "show", "dev", interface], timeout: 10).run(), output.status == 0
    else { return (nil, nil) }
    let words = output.stdoutText.split(whereSeparator: \.isWhitespace)
    func after(_ word: String) -> Substring? {
      words.firstIndex(of: Substring(word)).flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
    }
    return (after("mtu").flatMap { Int($0) }, after("link/ether").flatMap { MACAddress($0) })
  }

  static func modified(_ path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
  }

  /// When a process started: its start time in clock ticks after boot (/proc/PID/stat, field
  /// 22) and the boot time (/proc/stat, btime).
  static func started(_ pid: pid_t) -> Date? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")"),
      let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
      let btime = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }).flatMap({ Double($0.dropFirst(6)) })
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    return Date(timeIntervalSince1970: btime + ticks / Double(sysconf(Int32(_SC_CLK_TCK))))
  }
}
