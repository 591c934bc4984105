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

@Suite struct AtomicBatchSharingTests {
  static func inode(_ path: String) -> ino_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_ino : nil
  }

  @Test func oneContentIsWrittenOnceAndLinkedAtCommit() throws {
    let dir = TemporaryDirectory("piswarm-batch")
    let existing = dir.write("c.txt", "old\n")
    let batch = AtomicBatch(sharing: true)
    #expect(try batch.stage("same\n", to: dir.file("a.txt")) == true)
    #expect(try batch.stage("same\n", to: dir.file("b.txt")) == true)
    #expect(try batch.stage("same\n", to: existing) == true)
    // Another mode is another file.
    #expect(try batch.stage("same\n", to: dir.file("private.txt"), mode: 0o600) == true)
    #expect(!FileManager.default.fileExists(atPath: dir.file("b.txt")))
    #expect(dir.read("c.txt") == "old\n")
    try batch.commit()
    for name in ["a.txt", "b.txt", "c.txt", "private.txt"] { #expect(dir.read(name) == "same\n") }
    #expect(Self.inode(dir.file("a.txt")) == Self.inode(dir.file("b.txt")))
    #expect(Self.inode(dir.file("a.txt")) == Self.inode(existing))
    #expect(Self.inode(dir.file("a.txt")) != Self.inode(dir.file("private.txt")))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.txt", "b.txt", "c.txt", "private.txt"])

    // A later batch replaces one path by rename: the others keep their content.
    let next = AtomicBatch(sharing: true)
    #expect(try next.stage("other\n", to: dir.file("b.txt")) == true)
    try next.commit()
    #expect(dir.read("b.txt") == "other\n" && dir.read("a.txt") == "same\n" && dir.read("c.txt") == "same\n")
  }

  @Test func withoutSharingEveryPathIsAFileOfItsOwn() throws {
    let dir = TemporaryDirectory("piswarm-batch")
    let batch = AtomicBatch()
    try batch.stage("same\n", to: dir.file("a.txt"))
    try batch.stage("same\n", to: dir.file("b.txt"))
    try batch.commit()
    #expect(Self.inode(dir.file("a.txt")) != Self.inode(dir.file("b.txt")))
  }
}
