import Testing

@testable import PiSwarmCore

@Suite struct PreflightTests {
  let good: [String: String] = [
    "arch": "aarch64", "vxlan": "yes", "ipvs": "yes", "memory_cgroup": "yes", "docker": "yes", "data_root": "/var/lib/docker",
    "data_root_fs": "ext2/ext3", "data_root_free_kb": "\(20 << 20)",
  ]
  let pi = Node(name: "node01", ip: IPv4Address("10.0.0.11")!, model: .pi4, boot: .sd, dockerStorage: .root)

  func findings(_ change: [String: String], node: Node? = nil, offset: Double? = 0.1) -> [Preflight.Finding] {
    Preflight.evaluate(good.merging(change) { $1 }, node: node ?? pi, clockOffset: offset)
  }

  @Test func aHealthyNodePasses() { #expect(findings([:]).isEmpty) }

  @Test(arguments: [
    (["arch": "armv7l"], "arch", Preflight.Finding.Severity.error, "32-bit"),
    (["vxlan": "no"], "kernel", .error, "vxlan"),
    (["ipvs": "no"], "kernel", .warning, "routing mesh"),
    (["memory_cgroup": "no"], "cgroup", .error, "cgroup_enable=memory cgroup_memory=1"),
    (["docker": "no"], "docker", .error, "not installed"),
    (["data_root_fs": "nfs"], "storage", .error, "NFS"),
    (["data_root_free_kb": "100000"], "storage", .error, "MiB free"),
    (["data_root_free_kb": "\(1 << 20)"], "storage", .warning, "MiB free"),
    (["docker": "no", "apt": "yes"], "docker", .warning, "installs docker.io"),
  ])
  func eachProblemIsFound(change: [String: String], check: String, severity: Preflight.Finding.Severity, words: String) {
    let found = findings(change)
    #expect(found.count == 1, "\(found)")
    #expect(found.first?.check == check)
    #expect(found.first?.severity == severity)
    #expect(found.first?.message.contains(words) == true, "\(found.first?.message ?? "")")
  }

  @Test func freeSpaceIsCheckedWhereTheStorageLives() {
    var loop = pi
    loop.dockerStorage = .loopfile(.gibibytes(16))
    #expect(findings(["data_root_free_kb": "1000", "base_free_kb": "\(20 << 20)"], node: loop).isEmpty)
    #expect(findings(["base_free_kb": "\(4 << 20)"], node: loop).first?.message.contains("less than the loopfile's 16G") == true)
    #expect(findings(["base_free_kb": "1000"], node: loop).first?.severity == .error)
    var memory = pi
    memory.dockerStorage = .tmpfs(ByteSize(bytes: 512 << 20))
    #expect(findings(["data_root_free_kb": "1000"], node: memory).isEmpty)
  }

  /// A card node short of room under its root is told to grow the card's root partition.
  @Test func aCardsUngrownRootIsNamed() {
    let card = findings(["data_root_free_kb": "100000"]).first?.message ?? ""
    #expect(card.contains("grow the root partition to the card's end"), "\(card)")
    var installed = pi
    installed.boot = .preinstalled
    #expect(findings(["data_root_free_kb": "100000"], node: installed).first?.message.contains("card") == false)
  }

  @Test func clockSkew() {
    #expect(findings([:], offset: 1.5).isEmpty)
    #expect(findings([:], offset: -5).first?.severity == .warning)
    #expect(findings([:], offset: 120).first?.severity == .error)
    #expect(findings([:], offset: 120).first?.message.contains("not yet valid") == true)
  }

  @Test func nfsIsFineWhenDockerHasItsOwnStorage() {
    var node = pi
    node.dockerStorage = .loopfile(.gibibytes(8))
    #expect(findings(["data_root_fs": "nfs"], node: node).isEmpty)
  }

  @Test func parsesTheScriptsOutput() {
    let facts = Preflight.parse("arch=x86_64\nvxlan=yes\nipvs=no\nmemory_cgroup=yes\ntime=1700000000.5\ndocker=yes\nnoise=1\n")
    #expect(facts["arch"] == "x86_64")
    #expect(facts["time"] == "1700000000.5")
    #expect(facts["noise"] == nil)
  }
}
