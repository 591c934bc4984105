import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The lab's QEMU VMs: registered once (`lab vm add`), then powered on (QEMU started by PID in
/// the VM's namespace, its tap on the bridge), off (QMP `quit`, then SIGKILL to that PID) and
/// read (the PID's command line, then QMP `query-status`).
extension VirtualLab {
  public struct VMStatus: Sendable, Codable, Equatable {
    public var name: String
    public var mac: String
    public var running: Bool
    /// QEMU's run state from QMP (`running`, `paused`, `shutdown`, …) when it answered.
    public var state: String?
    public var pid: Int32?
    public var console: String
  }

  /// Records `vm` (replacing an earlier record of the same name only while it is off).
  public func addVM(_ vm: LabVM) throws(PiSwarmError) {
    if let problem = vm.problem { throw PiSwarmError(.invalidInput, problem, advice: "see 'piswarm lab vm add --help'") }
    let paths = vm.paths(stateDirectory: stateDirectory)
    guard paths.qmpSocket.utf8.count < 108 else {
      throw PiSwarmError(
        .invalidInput, "VM \(vm.name): its QMP socket \(paths.qmpSocket) is longer than a Unix socket path may be",
        advice: "use a shorter state directory (--state-dir) or VM name")
    }
    if let existing = loadVM(lab: vm.lab, name: vm.name), runningPID(existing) != nil {
      throw PiSwarmError(
        .exists, "VM \(vm.name) of lab \(vm.lab) is running", advice: "piswarm power off \(vm.name) first, then add it again")
    }
    if let other = vms(lab: vm.lab).first(where: { $0.name != vm.name && $0.mac.lowercased() == vm.mac.lowercased() }) {
      throw PiSwarmError(.exists, "--mac \(vm.mac): VM \(other.name) of lab \(vm.lab) has it", advice: "give each VM its own MAC")
    }
    var record = vm
    record.pid = nil
    try Files.makeDirectory(stateDirectory + "/labs", mode: 0o700)
    try Files.makeDirectory(LabLayout.directory(name: vm.lab, stateDirectory: stateDirectory), mode: 0o700)
    try Files.makeDirectory(LabVM.Paths.folder(stateDirectory: stateDirectory, lab: vm.lab), mode: 0o700)
    try Files.makeDirectory(paths.directory, mode: 0o700)
    try saveVM(record)
  }

  /// Powers the VM off and forgets it (its tap goes too).
  public func removeVM(lab: String, name: String) throws(PiSwarmError) {
    let vm = try requireVM(lab: lab, name: name)
    try stopVM(vm)
    _ = try? ip(["-n", vm.namespace, "link", "del", vm.tap])
    do {
      try FileManager.default.removeItem(atPath: vm.paths(stateDirectory: stateDirectory).directory)
    } catch {
      throw PiSwarmError(.system, "cannot remove VM \(name)'s folder", cause: "\(error)")
    }
  }

  public func loadVM(lab: String, name: String) -> LabVM? {
    let paths = LabVM.Paths(stateDirectory: stateDirectory, lab: lab, name: name)
    guard let data = FileManager.default.contents(atPath: paths.record) else { return nil }
    return try? JSONDecoder().decode(LabVM.self, from: data)
  }

  /// Every VM of `lab`, by name.
  public func vms(lab: String) -> [LabVM] {
    let folder = LabVM.Paths.folder(stateDirectory: stateDirectory, lab: lab)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return names.sorted().compactMap { loadVM(lab: lab, name: $0) }
  }

  func requireVM(lab: String, name: String) throws(PiSwarmError) -> LabVM {
    guard let vm = loadVM(lab: lab, name: name) else {
      throw PiSwarmError(.notFound, "lab \(lab) has no VM \(name)", advice: "'piswarm lab vm ls --name \(lab)' lists them")
    }
    return vm
  }

  func saveVM(_ vm: LabVM) throws(PiSwarmError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    guard let data = try? encoder.encode(vm) else { throw PiSwarmError(.system, "cannot encode VM \(vm.name)'s record") }
    try AtomicFile.write(data, to: vm.paths(stateDirectory: stateDirectory).record, mode: 0o600)
  }

  /// The VM's QEMU PID when that process still runs (and is that VM's QEMU).
  public func runningPID(_ vm: LabVM) -> Int32? {
    guard let pid = vm.pid, Processes.isAlive(pid),
      LabVM.isQEMU(Processes.commandLine(pid), paths: vm.paths(stateDirectory: stateDirectory))
    else { return nil }
    return pid
  }

  /// Power on: the tap, then QEMU with the node's current cmdline.txt. Returns once QMP answers
  /// (the guest's boot goes on). Nothing happens when it already runs.
  public func startVM(_ vm: LabVM) throws(PiSwarmError) {
    if runningPID(vm) != nil { return }
    let paths = vm.paths(stateDirectory: stateDirectory)
    guard Files.exists("/run/netns/\(vm.namespace)") else {
      throw PiSwarmError(
        .notFound, "VM \(vm.name): network namespace \(vm.namespace) does not exist",
        advice: "start the lab (or the namespace the VM was added with) first")
    }
    for (what, path) in [("kernel", vm.kernel), ("initramfs", vm.initrd)] where !Files.exists(path) {
      throw PiSwarmError(
        .notFound, "VM \(vm.name): its \(what) \(path) is missing", advice: "add the VM again with a kernel that exists")
    }
    let cmdline: String
    do {
      cmdline = try String(contentsOfFile: vm.cmdlineFile, encoding: .utf8)
    } catch {
      throw PiSwarmError(
        .notFound, "VM \(vm.name): no kernel command line at \(vm.cmdlineFile)",
        advice: "render the node's boot files first ('piswarm netboot apply' or 'piswarm up')")
    }
    if !tapExists(vm) {
      try ip(["-n", vm.namespace, "tuntap", "add", "dev", vm.tap, "mode", "tap"])
      try ip(["-n", vm.namespace, "link", "set", vm.tap, "master", vm.bridge, "up"])
    }
    unlink(paths.qmpSocket)
    let pid = try Processes.spawnDetached(
      vm.qemuArguments(cmdline: cmdline, paths: paths), environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: paths.log)
    var record = vm
    record.pid = pid
    try saveVM(record)
    let deadline = Deadline(in: 15)
    while !deadline.hasPassed {
      guard Processes.isAlive(pid) else {
        Processes.reap(pid)
        let log = (try? String(contentsOfFile: paths.log, encoding: .utf8)) ?? ""
        throw PiSwarmError(
          .system, "VM \(vm.name): QEMU exited at start", advice: "see \(paths.log); is qemu-system-arm installed?",
          cause: String(log.suffix(1500)))
      }
      if qmp(vm, "query-status") != nil { return }
      usleep(100_000)
    }
    throw PiSwarmError(.system, "VM \(vm.name): QEMU (PID \(pid)) did not answer on \(paths.qmpSocket) within 15 s")
  }

  /// Power off: QMP `quit` (the power cord, not a shutdown: the graceful part runs over SSH
  /// before, in `piswarm power off`), SIGKILL to the PID if QEMU lingers. "Off" is the process gone.
  public func stopVM(_ vm: LabVM) throws(PiSwarmError) {
    guard let pid = runningPID(vm) else { return }
    _ = qmp(vm, "quit")
    if !Processes.waitForExit([pid], timeout: 10).isEmpty {
      _ = Processes.signal(pid, SIGKILL)
      if !Processes.waitForExit([pid], timeout: 5).isEmpty {
        throw PiSwarmError(.system, "VM \(vm.name): QEMU (PID \(pid)) did not end", advice: "kill -9 \(pid)")
      }
    }
    Processes.reap(pid)
    unlink(vm.paths(stateDirectory: stateDirectory).qmpSocket)
  }

  /// A reset button: QMP `system_reset` (the guest reboots in the same QEMU process).
  public func resetVM(lab: String, name: String) throws(PiSwarmError) {
    let vm = try requireVM(lab: lab, name: name)
    guard runningPID(vm) != nil else {
      throw PiSwarmError(.system, "VM \(vm.name) is off", advice: "piswarm power on \(vm.name)")
    }
    switch qmp(vm, "system_reset") {
    case .success: return
    case .failure(let failure): throw PiSwarmError(.system, "VM \(vm.name): system_reset failed: \(failure.message)")
    case nil: throw PiSwarmError(.system, "VM \(vm.name): QEMU did not answer system_reset on its QMP socket")
    }
  }

  public func vmStatus(_ vm: LabVM) -> VMStatus {
    let pid = runningPID(vm)
    var state: String?
    if pid != nil, case .success(let value) = qmp(vm, "query-status") { state = QMP.runState(value) }
    return VMStatus(
      name: vm.name, mac: vm.mac, running: pid != nil, state: state, pid: pid,
      console: vm.paths(stateDirectory: stateDirectory).console)
  }

  /// One QMP command on the VM's socket; nil when QEMU does not answer.
  func qmp(_ vm: LabVM, _ command: String) -> Result<JSONValue, QMPFailure>? {
    let lines = Probes.unixLines(
      socket: vm.paths(stateDirectory: stateDirectory).qmpSocket, request: Data(QMP.request(command).utf8), timeout: 5
    ) { QMP.answer($0) != nil }
    return lines.flatMap { QMP.answer($0) }
  }

  func tapExists(_ vm: LabVM) -> Bool {
    (try? Command("ip", ["-n", vm.namespace, "link", "show", vm.tap]).run().status) == 0
  }

  /// Every VM of the lab off and its tap gone, for `lab down`; also a QEMU whose PID was never
  /// recorded (a crash right after its start), found by its QMP socket under the lab's folder.
  func removeVMs(lab: String) {
    for vm in vms(lab: lab) {
      try? stopVM(vm)
      _ = try? ip(["-n", vm.namespace, "link", "del", vm.tap])
    }
    let marker = "unix:" + LabVM.Paths.folder(stateDirectory: stateDirectory, lab: lab) + "/"
    let strays = Processes.all().filter { pid in
      let words = Processes.commandLine(pid)
      return words.contains { $0.hasSuffix("qemu-system-aarch64") } && words.contains { $0.hasPrefix(marker) }
    }
    for pid in strays { _ = Processes.signal(pid, SIGKILL) }
    _ = Processes.waitForExit(strays, timeout: 5)
  }
}
