import Foundation
import PiSwarmTestSupport
import Testing

/// `image` and `root` commands where no tool or root is needed: empty listings, input errors.
@Suite struct ImageCommandTests {
  @Test func emptyListingsNeedNoStateDirectory() throws {
    let dir = TemporaryDirectory()
    let images = try CLI.run(["image", "ls", "--json"], in: dir)
    #expect(images.status == 0 && images.stdout == "[\n\n]\n")
    #expect(try CLI.run(["image", "ls"], in: dir).stdout == "NAME  OS  KERNEL  SIZE  ROOTS  SHA256\n")
    let roots = try CLI.run(["root", "ls", "--json"], in: dir)
    #expect(roots.status == 0 && roots.stdout == "[\n\n]\n")
    #expect(try CLI.run(["root", "ensure"], in: dir).status == 0)
    #expect(!FileManager.default.fileExists(atPath: dir.file("state")), "listing creates nothing")
  }

  @Test func inputErrorsExit64WithTheReason() throws {
    let dir = TemporaryDirectory()
    let badName = try CLI.run(["image", "import", "x.img", "--name=-x"], in: dir)
    #expect(badName.status == 64)
    #expect(badName.stderr.contains("\"-x\" cannot name an image"), "\(badName.stderr)")
    let missing = try CLI.run(["image", "rm", "nothing"], in: dir)
    #expect(missing.status == 64)
    #expect(missing.stderr.contains("no image named nothing"), "\(missing.stderr)")
    let method = try CLI.run(["root", "make", "--method", "magic"], in: dir)
    #expect(method.status == 64)
    #expect(method.stderr.contains("magic"), "\(method.stderr)")
    let noRoot = try CLI.run(["root", "rm", "node01"], in: dir)
    #expect(noRoot.status == 64)
    #expect(noRoot.stderr.contains("no root for node01"), "\(noRoot.stderr)")
  }
}
