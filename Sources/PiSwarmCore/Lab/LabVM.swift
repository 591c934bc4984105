/// A QEMU arm64 VM that a lab owns (`piswarm lab vm add`): a diskless node that netboots from
/// the head like a Pi, switched by the `lab` power driver. Its record lives in
/// `LAB/vms/NAME/vm.json`; "on" is its QEMU process running (found by the PID recorded at start
/// and checked by its command line), "off" is that process gone. QEMU is controlled through its
/// QMP socket (`quit`, `system_reset`, `query-status`), never by a signal to a name.
public struct LabVM: Codable, Sendable, Equatable {
  /// The node's name in cluster.yml.
  public var name: String
  public var lab: String
  /// The VM's network card (the node's `mac:` in cluster.yml, so that piswarm's dnsmasq knows it).
  public var mac: String
  public var kernel: String
  public var initrd: String
  /// Read at each power on: the node's rendered `cmdline.txt` in its TFTP folder, so that what
  /// piswarm renders is what the next boot gets, as on a Pi.
  public var cmdlineFile: String
  public var memoryMiB: Int
  public var cpus: Int
  /// QEMU's TCG translation buffer; its default (1 GiB) doubles a small VM's memory.
  public var tbSizeMiB: Int
  /// The network namespace QEMU runs in and the bridge there that its tap joins.
  public var namespace: String
  public var bridge: String
  /// QEMU's PID since the last power on; nil before the first.
  public var pid: Int32?

  public init(
    name: String, lab: String, mac: String, kernel: String, initrd: String, cmdlineFile: String, memoryMiB: Int = 768,
    cpus: Int = 1, tbSizeMiB: Int = 256, namespace: String, bridge: String, pid: Int32? = nil
  ) {
    self.name = name
    self.lab = lab
    self.mac = mac
    self.kernel = kernel
    self.initrd = initrd
    self.cmdlineFile = cmdlineFile
    self.memoryMiB = memoryMiB
    self.cpus = cpus
    self.tbSizeMiB = tbSizeMiB
    self.namespace = namespace
    self.bridge = bridge
    self.pid = pid
  }

  /// Where a VM's files are: derived from the state directory, the lab and the VM's name.
  public struct Paths: Sendable, Equatable {
    public var directory: String
    public var record: String { directory + "/vm.json" }
    public var qmpSocket: String { directory + "/qmp.sock" }
    /// The serial console, appended to at each boot (boot phases are read from it).
    public var console: String { directory + "/console.log" }
    /// QEMU's own stdout and stderr.
    public var log: String { directory + "/qemu.log" }

    public init(stateDirectory: String, lab: String, name: String) {
      directory = Self.folder(stateDirectory: stateDirectory, lab: lab) + "/" + name
    }

    /// The folder that holds every VM of `lab`.
    public static func folder(stateDirectory: String, lab: String) -> String {
      LabLayout.directory(name: lab, stateDirectory: stateDirectory) + "/vms"
    }
  }

  public func paths(stateDirectory: String) -> Paths { Paths(stateDirectory: stateDirectory, lab: lab, name: name) }

  /// The tap that cables the VM to its bridge: named by the MAC's last three bytes (at most 15
  /// characters, unique among VMs on one bridge, since their MACs are).
  public var tap: String { "pvm" + mac.split(separator: ":").suffix(3).joined().lowercased() }

  /// Why this VM cannot be registered, or nil: checked before anything is written.
  public var problem: String? {
    if let problem = LabLayout.problem(withName: lab) { return "lab \"\(lab)\": \(problem)" }
    guard HostName.isValid(name) else { return "VM name \"\(name)\": only lowercase letters, digits and '-'" }
    guard let address = MACAddress(mac), !address.isMulticast else { return "--mac \(mac): not a unicast MAC address" }
    guard (128...16384).contains(memoryMiB) else { return "--memory \(memoryMiB): pick 128 to 16384 MiB" }
    guard (1...8).contains(cpus) else { return "--cpus \(cpus): pick 1 to 8" }
    guard (32...4096).contains(tbSizeMiB) else { return "--tb-size \(tbSizeMiB): pick 32 to 4096 MiB" }
    for (option, path) in [("--kernel", kernel), ("--initrd", initrd), ("--cmdline-file", cmdlineFile)]
    where !path.hasPrefix("/") || path.contains(",") {
      return "\(option) \(path): give an absolute path without ','"
    }
    guard HostName.isValid(namespace), !bridge.isEmpty, bridge.count <= 15, !bridge.contains("/") else {
      return "--netns \(namespace) --bridge \(bridge): a network namespace name and an interface name"
    }
    return nil
  }

  /// QEMU's command line for one power on, run in the VM's namespace: `-M virt` under TCG with
  /// a capped translation buffer, the kernel and initramfs given directly (the VM has no boot
  /// ROM) with `cmdline` (the node's cmdline.txt) and the serial console last (the last
  /// `console=` wins), QMP on a Unix socket, the console appended to a file, the network on the
  /// VM's tap. A guest reboot restarts the guest in the same process; a guest power off ends it.
  public func qemuArguments(cmdline: String, paths: Paths) -> [String] {
    [
      "nsenter", "--net=/run/netns/\(namespace)", "qemu-system-aarch64", "-name", "piswarm-\(lab)-\(name)",
      "-M", "virt", "-cpu", "cortex-a72", "-smp", "\(cpus)", "-m", "\(memoryMiB)", "-accel", "tcg,tb-size=\(tbSizeMiB)",
      "-display", "none", "-monitor", "none", "-nodefaults",
      "-chardev", "file,id=console,path=\(paths.console),append=on", "-serial", "chardev:console",
      "-qmp", "unix:\(paths.qmpSocket),server=on,wait=off",
      "-kernel", kernel, "-initrd", initrd,
      "-append", Self.kernelCommandLine(cmdline),
      "-netdev", "tap,id=net0,ifname=\(tap),script=no,downscript=no",
      "-device", "virtio-net-pci,netdev=net0,mac=\(mac.lowercased()),romfile=",
    ]
  }

  /// cmdline.txt as one line, QEMU's serial console added last.
  public static func kernelCommandLine(_ cmdline: String) -> String {
    let words = cmdline.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
    return (words.map(String.init) + ["console=ttyAMA0"]).joined(separator: " ")
  }

  /// True when `words` (a process's command line) is this VM's QEMU: a recorded PID is trusted
  /// only when it still runs our program with our QMP socket (PIDs are reused).
  public static func isQEMU(_ words: [String], paths: Paths) -> Bool {
    words.contains { $0.hasSuffix("qemu-system-aarch64") } && words.contains("unix:\(paths.qmpSocket),server=on,wait=off")
  }
}

/// QEMU's machine protocol (QMP): one JSON object a line. A session reads the greeting, sends
/// `qmp_capabilities`, then commands; the answers are `return` or `error` objects, with
/// `event` objects between them.
public enum QMP {
  /// The lines a client sends for `command`: the capabilities handshake first.
  public static func request(_ command: String) -> String {
    "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"\(command)\"}\n"
  }

  /// An answer line from QEMU.
  public enum Reply: Equatable, Sendable {
    case greeting
    case event(String)
    case `return`(JSONValue)
    case error(String)
  }

  /// One line of QEMU's output (QEMU ends its lines with CR LF); nil if it is not a QMP object.
  public static func parse(_ line: String) -> Reply? {
    let text = String(line.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    guard case .object(let object) = JSONValue.parse(text) else { return nil }
    if object["QMP"] != nil { return .greeting }
    if case .string(let name) = object["event"] { return .event(name) }
    if let value = object["return"] { return .return(value) }
    if case .object(let error) = object["error"] {
      if case .string(let text) = error["desc"] { return .error(text) }
      return .error("QMP error")
    }
    return nil
  }

  /// The answer to the last command of `request`, from every line QEMU sent: the second
  /// `return` or the first `error`; nil when the answer is missing.
  public static func answer(_ lines: [String]) -> Result<JSONValue, QMPFailure>? {
    var returns = 0
    for line in lines {
      switch parse(line) {
      case .return(let value):
        returns += 1
        if returns == 2 { return .success(value) }
      case .error(let text): return .failure(QMPFailure(message: text))
      default: continue
      }
    }
    return nil
  }

  /// `query-status`'s answer: the run state (`running`, `paused`, `shutdown`, …).
  public static func runState(_ value: JSONValue) -> String? {
    guard case .object(let object) = value, case .string(let status) = object["status"] else { return nil }
    return status
  }
}

public struct QMPFailure: Error, Equatable, Sendable {
  public var message: String
  public init(message: String) { self.message = message }
}
