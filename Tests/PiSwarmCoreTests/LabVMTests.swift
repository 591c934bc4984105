import PiSwarmCore
import Testing

@Suite struct LabVMTests {
  static let vm = LabVM(
    name: "node04", lab: "j1", mac: "52:54:00:AB:CD:04", kernel: "/cache/vmlinuz", initrd: "/cache/initrd.img",
    cmdlineFile: "/srv/tftp/52-54-00-ab-cd-04/cmdline.txt", namespace: "pslab-j1", bridge: "br0")
  static let paths = LabVM.Paths(stateDirectory: "/var/lib/piswarm", lab: "j1", name: "node04")

  @Test func aLabOf100NodesRaisesTheSharedNeighbourTableAndNeverLowersIt() {
    #expect(LabLayout.neighbourThresholds(nodes: 100, current: [128, 512, 1024]) == [3012, 12048, 24096])
    #expect(LabLayout.neighbourThresholds(nodes: 100, current: [128, 20000, 30000]) == [3012, 20000, 30000])
    #expect(LabLayout.neighbourThresholds(nodes: 3, current: [128, 512, 1024]) == [514, 2057, 4114])
    #expect(LabLayout.neighbourThresholds(nodes: 100, current: [4000, 20000, 30000]) == nil)
    #expect(LabLayout.neighbourThresholds(nodes: 100, current: []) == nil)
  }

  @Test func theQEMUCommandLineIsRenderedFromTheRecordAndTheNodesCmdline() {
    let arguments = Self.vm.qemuArguments(
      cmdline: "console=serial0,115200 root=/dev/nfs nfsroot=10.0.0.1:/srv/nfs/node04,nfsvers=3,tcp ip=dhcp rw\n",
      paths: Self.paths)
    #expect(
      arguments == [
        "nsenter", "--net=/run/netns/pslab-j1", "qemu-system-aarch64", "-name", "piswarm-j1-node04",
        "-M", "virt", "-cpu", "cortex-a72", "-smp", "1", "-m", "768", "-accel", "tcg,tb-size=256",
        "-display", "none", "-monitor", "none", "-nodefaults",
        "-chardev", "file,id=console,path=/var/lib/piswarm/labs/j1/vms/node04/console.log,append=on",
        "-serial", "chardev:console",
        "-qmp", "unix:/var/lib/piswarm/labs/j1/vms/node04/qmp.sock,server=on,wait=off",
        "-kernel", "/cache/vmlinuz", "-initrd", "/cache/initrd.img",
        "-append",
        "console=serial0,115200 root=/dev/nfs nfsroot=10.0.0.1:/srv/nfs/node04,nfsvers=3,tcp ip=dhcp rw console=ttyAMA0",
        "-netdev", "tap,id=net0,ifname=pvmabcd04,script=no,downscript=no",
        "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:ab:cd:04,romfile=",
      ])
  }

  @Test func aRecordedPIDIsTheVMsOnlyWhileItRunsQEMUWithTheVMsSocket() {
    let words = Self.vm.qemuArguments(cmdline: "", paths: Self.paths).dropFirst(2).map { $0 }
    #expect(LabVM.isQEMU(["/usr/bin/qemu-system-aarch64"] + words.dropFirst(), paths: Self.paths))
    let other = LabVM.Paths(stateDirectory: "/var/lib/piswarm", lab: "j1", name: "node05")
    #expect(!LabVM.isQEMU(words, paths: other), "another VM's QEMU")
    #expect(!LabVM.isQEMU(["sleep", "unix:\(Self.paths.qmpSocket),server=on,wait=off"], paths: Self.paths), "a reused PID")
  }

  @Test func badRecordsAreRefusedNamingTheValue() {
    #expect(Self.vm.problem == nil)
    var vm = Self.vm
    vm.mac = "01:00:5e:00:00:01"
    #expect(vm.problem?.contains("--mac 01:00:5e:00:00:01") == true)
    vm = Self.vm
    vm.kernel = "vmlinuz"
    #expect(vm.problem?.contains("--kernel vmlinuz") == true)
    vm = Self.vm
    vm.cmdlineFile = "/a,b"
    #expect(vm.problem?.contains("--cmdline-file /a,b") == true, "a comma would split QEMU's option")
    vm = Self.vm
    vm.memoryMiB = 64
    #expect(vm.problem?.contains("--memory 64") == true)
    vm = Self.vm
    vm.name = "Node 4"
    #expect(vm.problem?.contains("\"Node 4\"") == true)
  }

  @Test func qmpRequestsHandshakeFirstAndAnswersSkipEvents() {
    #expect(QMP.request("quit") == "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n")
    let lines = [
      #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}"#,
      #"{"return": {}}"#,
      #"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESET", "data": {"guest": false}}"#,
      #"{"return": {"status": "running", "singlestep": false, "running": true}}"# + "\r",
    ]
    #expect(QMP.parse(lines[0]) == .greeting)
    #expect(QMP.parse(lines[3]) != nil, "QEMU ends its lines with CR LF")
    #expect(QMP.parse(lines[2]) == .event("RESET"))
    #expect(QMP.answer(Array(lines.prefix(3))) == nil, "the handshake's return is not the command's")
    guard case .success(let value) = QMP.answer(lines) else {
      Issue.record("no answer")
      return
    }
    #expect(QMP.runState(value) == "running")
    let failed = [lines[0], lines[1], #"{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}"#]
    #expect(QMP.answer(failed) == .failure(QMPFailure(message: "The command nope has not been found")))
  }
}
