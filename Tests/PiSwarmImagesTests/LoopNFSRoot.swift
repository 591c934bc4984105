import Foundation
import PiSwarmSystem
import PiSwarmTestSupport

/// A 200 MiB ext4 filesystem on a loop device, mounted at FOLDER/nfs: an NFS root like the
/// e2e's, on which overlay roots can be made (as root). `cleanUp` unmounts everything below
/// the folder and detaches the loop devices, also after a failure part-way through `init`.
final class LoopNFSRoot {
  let folder: TemporaryDirectory
  var path: String { folder.file("nfs") }
  private var device: String?

  init(_ prefix: String) throws {
    folder = TemporaryDirectory(prefix)
    do {
      try Command("truncate", ["-s", "200M", folder.file("fs.img")]).check()
      let loop = try Command("losetup", ["--find", "--show", folder.file("fs.img")]).check().stdoutText
        .trimmingCharacters(in: .whitespacesAndNewlines)
      device = loop
      try Command("mkfs.ext4", ["-q", loop]).check()
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      try Command("mount", [loop, path]).check()
    } catch {
      cleanUp()
      throw error
    }
  }

  func cleanUp() {
    Cleanup.unmount(below: path)
    Cleanup.unmount(below: folder.path)
    if let device { Cleanup.detach(loop: device) }
    Cleanup.detachLoops(below: folder.path)
  }
}
