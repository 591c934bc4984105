import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// What the head serves follows the generation a node boots: cmdline.txt and the NFS exports
/// point at the current generation the state store records; `root ls` shows the generations,
/// `root prune` removes all but current and previous, `root rm` every one.
@Suite struct RootGenerationCommandTests {
  let dir = TemporaryDirectory()

  func file(image: String = "old") -> String {
    """
    name: lab
    head:
      interface: eth1
      address: 10.42.0.250/24
      lan: proxy
      tftp_root: \(dir.file("tftp"))
      nfs_root: \(dir.file("nfs"))
      dnsmasq_conf: \(dir.file("dnsmasq.conf"))
    defaults:
      image: \(image)
    nodes:
      - name: node01
        ip: 10.42.0.1
        mac: b8:27:eb:00:00:01

    """
  }

  /// Three generations of node01 on disk (copy roots: plain folders) and in the store:
  /// 1 kept, 2 previous, 3 current.
  func prepare() throws -> SQLiteStateStore {
    dir.write("cluster.yml", file())
    let nfs = dir.file("nfs")
    let paths = [nfs + "/node01", nfs + "/.roots/node01/2", nfs + "/.roots/node01/3"]
    for (index, path) in paths.enumerated() {
      try FileTree.write(["etc/hostname": "node01\n", "etc/generation": "\(index + 1)\n"], under: path)
    }
    try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
    let store = try SQLiteStateStore(stateDirectory: dir.file("state"))
    let now = Date()
    try store.recordRoot(
      NodeRootRecord(
        node: "node01", image: "old", method: "copy", path: paths[0], hostKey: "SHA256:x", createdAt: now, updatedAt: now))
    try store.recordGenerations(
      node: "node01",
      [
        RootGeneration(node: "node01", number: 1, image: "old", method: .copy, path: paths[0], role: .kept, purpose: "root make"),
        RootGeneration(
          node: "node01", number: 2, image: "new", method: .copy, path: paths[1], role: .previous, purpose: "upgrade to new"),
        RootGeneration(
          node: "node01", number: 3, image: "new", method: .copy, path: paths[2], role: .current,
          purpose: "backup before packages"),
      ])
    return store
  }

  @Test func theServedFilesPointAtTheCurrentGeneration() throws {
    let store = try prepare()
    #expect(try store.roots().first?.path == dir.file("nfs") + "/.roots/node01/3", "node_roots follows the current one")
    try FileManager.default.createDirectory(atPath: dir.file("firmware"), withIntermediateDirectories: true)
    let apply = try CLI.run(["netboot", "apply", "--files-only", "--firmware", dir.file("firmware")], in: dir)
    #expect(apply.status == 0, "\(apply.stderr)")
    let cmdline = (try? String(contentsOfFile: dir.file("tftp/b8-27-eb-00-00-01/cmdline.txt"), encoding: .utf8)) ?? ""
    #expect(cmdline.contains("nfsroot=10.42.0.250:\(dir.file("nfs"))/.roots/node01/3,nfsvers=3,tcp"), "\(cmdline)")
    let exports = (try? String(contentsOfFile: dir.file("state/netboot/exports"), encoding: .utf8)) ?? ""
    #expect(exports.contains("\(dir.file("nfs"))/.roots/node01/3 10.42.0.1("), "\(exports)")
    #expect(!exports.contains("\(dir.file("nfs"))/node01 "), "\(exports)")
    let ganesha = (try? String(contentsOfFile: dir.file("state/netboot/ganesha.conf"), encoding: .utf8)) ?? ""
    #expect(ganesha.contains("\(dir.file("nfs"))/.roots/node01/3"), "\(ganesha)")
  }

  @Test func lsShowsGenerationsPruneKeepsCurrentAndPreviousRmTakesAll() throws {
    _ = try prepare()
    let list = try CLI.run(["root", "ls"], in: dir)
    #expect(list.status == 0, "\(list.stderr)")
    #expect(list.stdout.contains("3 current (new), 2 previous (new), 1 kept (old)"), "\(list.stdout)")

    let dry = try CLI.run(["root", "prune", "--dry-run", "--json"], in: dir)
    #expect(dry.status == 0, "\(dry.stderr)")
    #expect(dry.stdout.contains("\"generation\" : 1") && dry.stdout.contains("\"removed\" : false"), "\(dry.stdout)")
    #expect(Files.exists(dir.file("nfs/node01")))

    let unknown = try CLI.run(["root", "prune", "node09"], in: dir)
    #expect(unknown.status == 64 && unknown.stderr.contains("no root for node09"), "\(unknown.stderr)")

    let prune = try CLI.run(["root", "prune"], in: dir)
    #expect(prune.status == 0, "\(prune.stderr)")
    #expect(!Files.exists(dir.file("nfs/node01")))
    #expect(Files.exists(dir.file("nfs/.roots/node01/2/etc/generation")))
    #expect(Files.exists(dir.file("nfs/.roots/node01/3/etc/generation")))
    let again = try CLI.run(["root", "prune"], in: dir)
    #expect(again.status == 0 && again.stdout.isEmpty, "\(again.stdout)")
    #expect(try CLI.run(["root", "ls"], in: dir).stdout.contains("3 current (new), 2 previous (new)\n"))

    // The images behind a kept generation are in use.
    let store = try SQLiteStateStore(stateDirectory: dir.file("state"))
    #expect(try store.generationUsers(image: "new") == ["node01"])
    #expect(try store.generationUsers(image: "old").isEmpty)

    let remove = try CLI.run(["root", "rm", "node01"], in: dir)
    #expect(remove.status == 0, "\(remove.stderr)")
    #expect(!Files.exists(dir.file("nfs/.roots/node01/2")) && !Files.exists(dir.file("nfs/.roots/node01/3")))
    #expect(try store.generations(node: "node01").isEmpty && (try store.roots().isEmpty))
  }

  @Test func upgradeAndRollbackRefuseBadInputBeforeTouchingAnything() throws {
    _ = try prepare()
    let neither = try CLI.run(["upgrade"], in: dir)
    #expect(neither.status == 64 && neither.stderr.contains("--image NAME or --packages"), "\(neither.stderr)")
    let both = try CLI.run(["upgrade", "--image", "x", "--packages"], in: dir)
    #expect(both.status == 64, "\(both.stderr)")
    let canary = try CLI.run(["upgrade", "--packages", "node01", "--canary", "node02", "--dry-run"], in: dir)
    #expect(canary.status == 64 && canary.stderr.contains("canary node02"), "\(canary.stderr)")
    let rollback = try CLI.run(["rollback"], in: dir)
    #expect(rollback.status == 64, "\(rollback.stderr)")
  }
}
