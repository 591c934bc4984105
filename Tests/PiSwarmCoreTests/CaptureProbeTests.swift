import PiSwarmCore
import Testing

/// What capture.sh's probe says about a node's boot disk is read as hostile input: a disk that
/// is not a plain /dev/NAME, a size that does not fit, or the script's own refusal (a root on
/// NFS) stops the capture with words for the user.
@Suite struct CaptureProbeTests {
  static let card = """
    root=/dev/mmcblk0p2
    disk=/dev/mmcblk0
    disk_bytes=31914983424
    bytes=31914983424
    mounts=/ /boot/firmware 
    fsfreeze=yes

    """

  @Test func aCardIsRead() throws {
    let probe = try CaptureProbe.parse(Self.card, node: "node07").get()
    #expect(
      probe
        == CaptureProbe(
          root: "/dev/mmcblk0p2", disk: "/dev/mmcblk0", diskBytes: 31_914_983_424, bytes: 31_914_983_424,
          mounts: ["/", "/boot/firmware"], canFreeze: true))
    #expect(probe.warning(node: "node07", freeze: false).contains("crash-consistent"))
    #expect(probe.warning(node: "node07", freeze: true).contains("/, /boot/firmware held still"))
    #expect(CaptureProbe.defaultName(node: "node07", stamp: "20261126-061500") == "node07-20261126-061500")
    #expect(ImageName.problem(with: CaptureProbe.defaultName(node: "node07", stamp: "20261126-061500")) == nil)
  }

  @Test func aNetbootRootIsRefusedWithItsReason() {
    let output =
      "root=10.0.0.1:/srv/nfs/node01\nerror=the root filesystem (10.0.0.1:/srv/nfs/node01) is not on a local disk: nothing to capture\n"
    guard case .failure(let error) = CaptureProbe.parse(output, node: "node01") else {
      Issue.record("a netboot root was accepted")
      return
    }
    #expect(error.message.contains("node01: the root filesystem (10.0.0.1:/srv/nfs/node01) is not on a local disk"))
    #expect(error.description.contains("boot: sd"))
  }

  @Test(arguments: [
    "disk=/dev/../etc/shadow", "disk=/dev/sda;reboot", "disk=/etc/passwd", "disk=", "disk=/dev/\u{1b}[2J",
  ])
  func aDiskThatIsNotAPlainDeviceIsRefused(_ line: String) {
    let output = Self.card.replacingOccurrences(of: "disk=/dev/mmcblk0\n", with: line + "\n")
    guard case .failure(let error) = CaptureProbe.parse(output, node: "node07") else {
      Issue.record("\(line) was accepted")
      return
    }
    #expect(error.message.contains("no usable boot disk"))
    #expect(!error.message.contains("\u{1b}"))
  }

  @Test(arguments: ["bytes=0", "bytes=31914983425", "bytes=-1", "bytes=lots"])
  func aSizeThatDoesNotFitIsRefused(_ line: String) {
    let output = Self.card.replacingOccurrences(of: "bytes=31914983424\nmounts", with: line + "\nmounts")
    guard case .failure(let error) = CaptureProbe.parse(output, node: "node07") else {
      Issue.record("\(line) was accepted")
      return
    }
    #expect(error.message.contains("no sensible size"), "\(error)")
  }
}
