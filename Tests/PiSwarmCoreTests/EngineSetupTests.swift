import Crypto
import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

@Suite struct EngineSetupTests {
  static let cluster: Cluster = ClusterFile.decode(
    text: baseFile + "docker:\n  registry_mirrors: [https://mirror.lan:5000]\n  log_max_size: 20m\n  log_max_files: 4\n"
  ).cluster!

  static func node(_ storage: DockerStorage, role: Node.Role = .worker) -> Node {
    var node = cluster.nodes[3]
    node.dockerStorage = storage
    node.role = role
    return node
  }

  static let userDaemonJSON = """
    {
      "debug": true,
      "labels": ["rack=2", "piswarm.node=old-name"],
      "log-opts": {"max-size": "1m"},
      "dns": ["10.42.0.250"]
    }
    """

  @Test func daemonJSONFreshMatchesGolden() throws {
    let text = try DaemonConfig.render(existing: nil, DaemonConfig.Settings(Self.cluster, Self.node(.loopfile(.gibibytes(8)))))
    if let problem = Golden.check(text, named: "daemon-fresh.json") { Issue.record(Comment(rawValue: problem)) }
  }

  @Test func daemonJSONKeepsWhatPiswarmDoesNotOwn() throws {
    let text = try DaemonConfig.render(existing: Self.userDaemonJSON, DaemonConfig.Settings(Self.cluster, Self.node(.root)))
    if let problem = Golden.check(text, named: "daemon-merged.json") { Issue.record(Comment(rawValue: problem)) }
    let value = try #require(JSONValue.parse(text))
    #expect(value["debug"] == .bool(true))
    #expect(value["dns"] == .array([.string("10.42.0.250")]))
    #expect(value["data-root"] == nil, "root storage leaves the data root as the user has it")
    #expect(
      value["labels"] == .array([.string("rack=2"), .string("piswarm.cluster=rack1"), .string("piswarm.node=node04")]))
  }

  @Test func daemonJSONRenderIsStable() throws {
    let settings = DaemonConfig.Settings(Self.cluster, Self.node(.tmpfs(.gibibytes(1))))
    let once = try DaemonConfig.render(existing: Self.userDaemonJSON, settings)
    #expect(try DaemonConfig.render(existing: once, settings) == once)
  }

  @Test(arguments: ["[1, 2]", "{not json", "\"text\""])
  func daemonJSONThatIsNotAnObjectIsNeverOverwritten(existing: String) {
    #expect(throws: PiSwarmError.self) {
      try DaemonConfig.render(existing: existing, DaemonConfig.Settings(Self.cluster, Self.node(.root)))
    }
  }

  @Test(arguments: [
    ("loopfile", DockerStorage.loopfile(.gibibytes(16))), ("device", .device("/dev/sda1")),
    ("tmpfs", .tmpfs(.gibibytes(2))), ("root", .root),
  ])
  func fstabMatchesGolden(name: String, storage: DockerStorage) {
    let existing = "proc /proc proc defaults 0 0\n10.42.0.250:/srv/nfs/node04 / nfs defaults 0 0\n"
    let text = DockerStorageLayout.fstab(existing: existing, storage: storage)
    if let problem = Golden.check(text, named: "fstab-\(name)") { Issue.record(Comment(rawValue: problem)) }
    #expect(text.hasPrefix(existing), "lines outside piswarm's block stay as they are")
  }

  /// A real OS (systemd) boots into emergency mode, unreachable, when a mount without nofail
  /// fails: the loop file before the first 'piswarm up', a missing disk. Found booting Debian
  /// diskless (RealOSBootTests).
  @Test(arguments: [DockerStorage.loopfile(.gibibytes(16)), .device("/dev/sda1")])
  func everyStorageMountThatCanBeMissingAtBootIsNofail(storage: DockerStorage) {
    let lines = DockerStorageLayout.fstabLines(storage)
    #expect(!lines.isEmpty)
    for line in lines {
      let options = line.split(separator: " ")[3].split(separator: ",")
      #expect(options.contains("nofail"), "\(line)")
    }
  }

  @Test func fstabBlockIsReplacedNotAppended() {
    let first = DockerStorageLayout.fstab(existing: "proc /proc proc defaults 0 0\n", storage: .loopfile(.gibibytes(8)))
    let second = DockerStorageLayout.fstab(existing: first + "# mine\n", storage: .tmpfs(.gibibytes(1)))
    #expect(second.components(separatedBy: DockerStorageLayout.begin).count == 2)
    #expect(second.contains("# mine\n"))
    #expect(!second.contains("loop,noatime"))
    #expect(DockerStorageLayout.fstab(existing: second, storage: .root) == "proc /proc proc defaults 0 0\n# mine\n")
  }

  static func state(
    docker: Bool = true, apt: Bool = true, daemon: String? = nil, mode: String? = nil, mounted: Bool = false,
    for node: Node
  ) throws -> EngineSetup.State {
    // A daemon.json and fstab already as piswarm would write them, unless given.
    let daemonJSON = try daemon ?? DaemonConfig.render(existing: nil, DaemonConfig.Settings(cluster, node))
    let fstabStorage = mode.flatMap { try? DockerStorage.parse($0).get() } ?? .root
    return EngineSetup.State(
      docker: docker, apt: apt, daemonJSON: daemonJSON, fstab: DockerStorageLayout.fstab(existing: "", storage: fstabStorage),
      storageMode: mode, storageMounted: mounted)
  }

  @Test func convergedNodeHasAnEmptyPlan() throws {
    let node = Self.node(.loopfile(.gibibytes(8)))
    let plan = try EngineSetup.plan(
      Self.state(mode: "loopfile:8G", mounted: true, for: node), cluster: Self.cluster, node: node)
    #expect(plan.isEmpty)
    #expect(plan.actions(node).isEmpty)
  }

  @Test(arguments: [
    // (current mode, mounted, desired, expected step)
    (String?.none, false, DockerStorage.loopfile(.gibibytes(8)), EngineSetup.StorageStep.migrate),
    (nil, false, .tmpfs(.gibibytes(1)), .migrate),
    (nil, false, .device("/dev/sda1"), .migrate),
    (nil, false, .root, .keep),
    ("loopfile:8G", false, .loopfile(.gibibytes(8)), .repair),
    ("loopfile:8G", true, .loopfile(.gibibytes(16)), .grow),
    ("tmpfs:1G", true, .tmpfs(.gibibytes(2)), .resize),
  ])
  func storageSteps(current: String?, mounted: Bool, desired: DockerStorage, expected: EngineSetup.StorageStep) throws {
    let node = Self.node(desired)
    let plan = try EngineSetup.plan(Self.state(mode: current, mounted: mounted, for: node), cluster: Self.cluster, node: node)
    #expect(plan.storage == expected)
    #expect(plan.stopsDocker == [.migrate, .repair, .grow].contains(expected))
  }

  @Test(arguments: [
    ("loopfile:16G", DockerStorage.loopfile(.gibibytes(8)), "cannot shrink"),
    ("loopfile:8G", .device("/dev/sda1"), "changes it only from root"),
    ("device:/dev/sda1", .device("/dev/sdb1"), "changes it only from root"),
    ("tmpfs:1G", .root, "changes it only from root"),
    ("sideways", .root, "not a storage mode"),
  ])
  func storageChangesThatWouldLoseDataAreRefused(current: String, desired: DockerStorage, message: String) throws {
    let node = Self.node(desired)
    let state = try Self.state(mode: current, mounted: true, for: node)
    do {
      _ = try EngineSetup.plan(state, cluster: Self.cluster, node: node)
      Issue.record("expected an error")
    } catch {
      #expect(error.message.contains(message), "\(error.message)")
      #expect(error.message.contains("node04"))
      #expect(error.advice != nil)
    }
  }

  @Test func missingDockerIsInstalledWhereAptExists() throws {
    let node = Self.node(.root)
    let plan = try EngineSetup.plan(
      Self.state(docker: false, daemon: "", for: node), cluster: Self.cluster, node: node)
    #expect(plan.install)
    #expect(plan.daemonJSON != nil)
    #expect(!plan.restart, "a fresh install starts dockerd once, after the files are written")
    #expect(plan.actions(node) == ["install docker.io", "daemon.json"])
    #expect(throws: PiSwarmError.self) {
      try EngineSetup.plan(Self.state(docker: false, apt: false, daemon: "", for: node), cluster: Self.cluster, node: node)
    }
  }

  @Test func theSameSettingsInAnotherLayoutChangeNothing() throws {
    let node = Self.node(.root, role: .manager)
    let rendered = try DaemonConfig.render(existing: nil, DaemonConfig.Settings(Self.cluster, node))
    let compact = String(decoding: try JSONEncoder().encode(try #require(JSONValue.parse(rendered))), as: UTF8.self)
    #expect(compact != rendered)
    let plan = try EngineSetup.plan(Self.state(daemon: compact, for: node), cluster: Self.cluster, node: node)
    #expect(plan.daemonJSON == nil && !plan.restart)
  }

  @Test func aNodeRootsFstabCarriesTheSameStorageBlockAsUp() {
    let identity = NodeIdentity(
      node: "node04", ip: IPv4Address("10.42.0.4")!, headIP: IPv4Address("10.42.0.250")!, nfsPath: "/srv/nfs/node04",
      authorizedKey: "ssh-ed25519 AAAA key", dockerStorage: .loopfile(.gibibytes(8)))
    #expect(identity.fstab.contains(DockerStorageLayout.begin))
    // What 'up' would write over it is what is there: neither undoes the other.
    #expect(DockerStorageLayout.fstab(existing: identity.fstab, storage: .loopfile(.gibibytes(8))) == identity.fstab)
  }

  @Test func changedDaemonJSONRestartsDocker() throws {
    let node = Self.node(.root, role: .manager)
    let plan = try EngineSetup.plan(Self.state(daemon: "{}", for: node), cluster: Self.cluster, node: node)
    #expect(plan.restart && plan.stopsDocker)
    #expect(plan.actions(node) == ["daemon.json", "restart dockerd"])
  }

  @Test func probeOutputParses() {
    let daemon = Data("{\"a\": 1}\n".utf8).base64EncodedString()
    let fstab = Data("proc /proc proc defaults 0 0\n".utf8).base64EncodedString()
    let state = EngineSetup.parse(
      "docker=yes\napt=yes\ndaemon_json=\(daemon)\nfstab=\(fstab)\nstorage_mode=loopfile:8G\nstorage_mounted=yes\nnoise\n")
    #expect(
      state
        == EngineSetup.State(
          docker: true, apt: true, daemonJSON: "{\"a\": 1}\n", fstab: "proc /proc proc defaults 0 0\n",
          storageMode: "loopfile:8G", storageMounted: true))
    #expect(EngineSetup.parse("docker=no\nstorage_mode=\n").storageMode == nil)
  }

  @Test func applyParametersGoByNameAndCarryFilesInBase64() throws {
    let node = Self.node(.device("/dev/sda1"))
    let plan = try EngineSetup.plan(Self.state(mode: nil, for: node), cluster: Self.cluster, node: node)
    let parameters = EngineSetup.applyEnvironment(plan, node: node, format: true)
    let byName = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) })
    #expect(byName["STEP"] == "migrate" && byName["KIND"] == "device" && byName["ARG"] == "/dev/sda1")
    #expect(byName["FORMAT"] == "1" && byName["INSTALL"] == "0")
    let fstab = String(decoding: try #require(Data(base64Encoded: byName["FSTAB"] ?? "")), as: UTF8.self)
    #expect(fstab.contains("/dev/sda1 /var/lib/piswarm-node/storage ext4"))
    // A migration stops dockerd: the plan says so, the script does not work it out again.
    #expect(byName["MODE"] == "device:/dev/sda1" && byName["STOP"] == "1" && byName["ROLE"] == "worker")
    let dropIn = String(decoding: try #require(Data(base64Encoded: byName["DROPIN"] ?? "")), as: UTF8.self)
    if let problem = Golden.check(dropIn, named: "docker-dropin.conf") { Issue.record(Comment(rawValue: problem)) }
    #expect(DockerStorageLayout.systemdDropInText(.root) == nil)
  }

  /// Every parameter a script requires is passed, by name, and nothing else.
  @Test func scriptsGetExactlyTheParametersTheyRequire() throws {
    let node = Self.node(.loopfile(.gibibytes(1)))
    let apply = EngineSetup.applyEnvironment(EngineSetup.Plan(), node: node, format: false).map(\.name)
    #expect(apply == RemoteScript.engineApply.parameterNames)
    #expect(EngineSetup.probeEnvironment(Self.cluster).map(\.name).sorted() == RemoteScript.engineProbe.parameterNames.sorted())
    #expect(Preflight.environment.map(\.name) == RemoteScript.preflight.parameterNames)
    #expect(RemoteScript.facts.parameterNames.isEmpty)
    // Embedded whole, to the file's last newline: scripts can be run one after another.
    for script in [RemoteScript.engineApply, .engineProbe, .preflight, .facts] {
      #expect(script.text.hasPrefix("#!/bin/sh\n") && script.text.hasSuffix("\n") && !script.text.hasSuffix("\n\n"))
    }
    let command = RemoteScript.engineApply.command([("STEP", "keep; rm -rf /"), ("KIND", "root")])
    #expect(command.prefix(3) == ["env", "STEP=keep; rm -rf /", "KIND=root"])
    #expect(Array(command.suffix(4)) == ["sh", "-c", RemoteScript.engineApply.text, "engine-apply.sh"])
  }

  @Test(arguments: [
    ("docker:\n  registry_mirrors: [ftp://x]\n", "must be an http:// or https:// URL"),
    ("docker:\n  registry_mirrors: https://x\n", "must be a list of URLs"),
    ("docker:\n  log_max_size: 10\n", "must be a whole number with k, m or g"),
    ("docker:\n  log_max_files: 0\n", "from 1 to 100"),
    ("docker:\n  log_max_file: 3\n", "did you mean \"log_max_files\""),
  ])
  func dockerSectionErrors(section: String, message: String) {
    let decoded = ClusterFile.decode(text: baseFile + section)
    #expect(decoded.diagnostics.contains { $0.severity == .error && $0.message.contains(message) }, "\(decoded.diagnostics)")
  }

  @Test func anImageNameThatCouldLeaveItsFolderIsRefused() {
    let text = baseFile.replacingOccurrences(of: "defaults:\n", with: "defaults:\n  image: ../etc\n")
    let decoded = ClusterFile.decode(text: text)
    #expect(
      decoded.diagnostics.contains { $0.severity == .error && $0.message.contains("defaults.image \"../etc\"") },
      "\(decoded.diagnostics)")
  }

  @Test func jsonRendersDeterministically() {
    let value: JSONValue = .object([
      "b": .array([.string("x\"y"), .number(2), .bool(false), .null]), "a": .object([:]),
      "c": .array([.object(["k": .number(1.5)])]), "d": .array([]),
    ])
    #expect(
      value.rendered() == """
        {
          "a": {},
          "b": ["x\\"y", 2, false, null],
          "c": [
            {
              "k": 1.5
            }
          ],
          "d": []
        }

        """)
  }
}

@Suite struct DockerContextTests {
  @Test func sha256MatchesKnownDigests() {
    #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    // What the docker CLI names the folder of a context called "probe".
    #expect(DockerContext.metaDirectory("probe") == "ba9c736f19e7f60b7f6764adb0b7908c0a2b394e09b6c09863528c7f2bc86095")
    let long = Array(repeating: UInt8(ascii: "a"), count: 1000)
    #expect(SHA256.hex(long) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
  }

  @Test func contextFilesMatchGolden() throws {
    let manager = EngineSetupTests.cluster.nodes[0]
    let meta = DockerContext.meta(cluster: "rack1", manager: manager.name)
    if let problem = Golden.check(meta, named: "docker-context-meta.json") { Issue.record(Comment(rawValue: problem)) }
    let config = DockerContext.sshConfig(
      cluster: "rack1", manager: manager, user: "pi", key: "/var/lib/piswarm/ssh/id_ed25519",
      knownHosts: "/var/lib/piswarm/known_hosts")
    if let problem = Golden.check(config, named: "docker-context-ssh.conf") { Issue.record(Comment(rawValue: problem)) }
  }
}
