import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct AtomicBatchTests {
  @Test func stagedFilesAppearOnlyAtCommitWholeAndWithTheirModes() throws {
    let dir = TemporaryDirectory("piswarm-batch")
    let kept = dir.write("kept.txt", "same\n")
    let changed = dir.write("changed.txt", "old\n")
    chmod(changed, 0o600)
    let batch = AtomicBatch()
    #expect(try batch.stage("same\n", to: kept) == false)
    #expect(try batch.stage("new\n", to: changed) == true)
    #expect(try batch.stage("fresh\n", to: dir.file("sub-less.txt"), mode: 0o644) == true)
    // Before the commit the targets are as they were.
    #expect(try String(contentsOfFile: changed, encoding: .utf8) == "old\n")
    #expect(!FileManager.default.fileExists(atPath: dir.file("sub-less.txt")))
    try batch.commit()
    #expect(try String(contentsOfFile: changed, encoding: .utf8) == "new\n")
    #expect(try String(contentsOfFile: dir.file("sub-less.txt"), encoding: .utf8) == "fresh\n")
    #expect((try FileManager.default.attributesOfItem(atPath: changed)[.posixPermissions] as? Int) == 0o600)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["changed.txt", "kept.txt", "sub-less.txt"])
  }

  @Test func aBatchNeverCommittedLeavesNothingBehind() throws {
    let dir = TemporaryDirectory("piswarm-batch")
    do {
      let batch = AtomicBatch()
      #expect(try batch.stage("x\n", to: dir.file("a.txt")) == true)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test func aTargetInAMissingFolderIsAnErrorThatNamesIt() {
    let batch = AtomicBatch()
    #expect {
      try batch.stage("x\n", to: "/nonexistent-piswarm/a.txt")
    } throws: { error in
      "\(error)".contains("/nonexistent-piswarm/")
    }
  }
}
