import Crypto
import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// The head's registry: `registry:` in cluster.yml, its rendered files, what `up` plans for
/// the head and for each node's Docker.
@Suite struct RegistryTests {
  static func cluster(_ section: String) throws -> Cluster {
    let decoded = decode(baseFile + section)
    return try #require(decoded.cluster, "\(decoded.diagnostics)")
  }

  static let paths = RegistryPaths(stateDirectory: "/var/lib/piswarm", settings: RegistrySettings(enabled: true))

  // MARK: - cluster.yml

  @Test func offUnlessAskedFor() throws {
    #expect(try Self.cluster("").registry.enabled == false)
    #expect(try Self.cluster("").registryMirrors.isEmpty)
    // A stacks: section asks for it (only its presence is read here).
    #expect(try Self.cluster("stacks:\n  web: [web.yml]\n").registry.enabled)
    // So does head in the mirrors: the cache comes first, the others after it.
    let mirrored = try Self.cluster("docker:\n  registry_mirrors: [https://mirror.lan, head]\n")
    #expect(mirrored.registry.enabled)
    #expect(mirrored.registryMirrors == ["https://10.42.0.250:5001", "https://mirror.lan"])
    // Said outright, it wins.
    #expect(try Self.cluster("stacks: {}\nregistry: false\n").registry.enabled == false)
    #expect(try Self.cluster("registry: true\n").registry == RegistrySettings(enabled: true))
  }

  @Test func aSectionTurnsItOnWithItsValues() throws {
    let cluster = try Self.cluster(
      "registry:\n  data: /srv/registry/\n  port: 5443\n  cache_port: 5444\n  upstream: http://10.42.0.9:5000/\n")
    #expect(
      cluster.registry
        == RegistrySettings(enabled: true, data: "/srv/registry", port: 5443, cachePort: 5444, upstream: "http://10.42.0.9:5000"))
    #expect(cluster.registryAddress == "10.42.0.250:5443")
    #expect(cluster.registryTrustFolders == ["/etc/docker/certs.d/10.42.0.250:5443", "/etc/docker/certs.d/10.42.0.250:5444"])
    let daemon = try DaemonConfig.render(existing: nil, DaemonConfig.Settings(cluster, try #require(cluster.nodes.first)))
    #expect(JSONValue.parse(daemon)?["registry-mirrors"] == .array([.string("https://10.42.0.250:5444")]), "\(daemon)")
  }

  static let badSections: [ValidationTests.Case] = [
    .init(
      text: baseFile + "registry: maybe\n", location: "33:11", message: "registry \"maybe\" must be true, false or a mapping"),
    .init(
      text: baseFile + "registry:\n  enabled: yes\n", location: "34:12", message: "registry.enabled \"yes\" must be true or false"
    ),
    .init(
      text: baseFile + "registry:\n  port: 70000\n", location: "34:9", message: "registry.port \"70000\" must be a port number"),
    .init(
      text: baseFile + "registry:\n  port: 5001\n", location: "34:9",
      message: "registry.port and registry.cache_port are both 5001"),
    .init(
      text: baseFile + "registry:\n  data: srv\n", location: "34:9", message: "registry.data \"srv\" must be an absolute path"),
    .init(text: baseFile + "registry:\n  data: /var/lib\n", location: "34:9", message: "registry.data \"/var/lib\""),
    .init(
      text: baseFile + "registry:\n  upstream: docker.io\n", location: "34:13",
      message: "registry.upstream \"docker.io\" must be an http:// or https:// URL"),
    .init(text: baseFile + "registry:\n  cache-port: 1\n", location: "34:3", message: "did you mean \"cache_port\""),
    .init(text: baseFile + "registry:\n  cache: no\n", location: "34:10", message: "registry.cache \"no\" must be true or false"),
    .init(
      text: baseFile + "docker:\n  registry_mirrors: [head]\nregistry:\n  cache: false\n", location: "34:22",
      message: "docker.registry_mirrors names head, the head's cache, but registry.cache is false"),
    .init(
      text: baseFile + "docker:\n  registry_mirrors: [head]\nregistry: false\n", location: "34:22",
      message: "docker.registry_mirrors names head, the head's cache, but registry: turns the head's registry off"),
  ]

  @Test(arguments: badSections)
  func badValuesAreReportedWhereTheyAre(_ testCase: ValidationTests.Case) {
    ValidationTests.expectLocated(testCase)
  }

  // MARK: - Rendered files

  @Test func filesMatchTheirGoldenCopies() throws {
    let cluster = try Self.cluster("registry:\n  upstream: https://registry-1.docker.io\n")
    let files: [(String, String)] = [
      ("registry-private.yml", RegistryFiles.config(.private, cluster: cluster, paths: Self.paths)),
      ("registry-cache.yml", RegistryFiles.config(.cache, cluster: cluster, paths: Self.paths)),
      ("registry-cache.service", RegistryFiles.unit(.cache, cluster: cluster, paths: Self.paths)),
      ("registry-server.ext", RegistryFiles.serverExtensions(cluster)),
    ]
    for (name, text) in files {
      if let problem = Golden.check(text, named: name) { Issue.record(Comment(rawValue: problem)) }
    }
    #expect(
      RegistryFiles.arguments(.private, Self.paths) == [
        "/usr/bin/docker-registry", "serve", "/var/lib/piswarm/registry/private.yml",
      ])
    // A state directory with a space, a quote or systemd's specifiers stays one word.
    let odd = RegistryPaths(stateDirectory: "/srv/pi swarm/50%$\"x", settings: RegistrySettings(enabled: true))
    #expect(
      RegistryFiles.unit(.private, cluster: cluster, paths: odd).contains(
        #"ExecStart=/usr/bin/docker-registry serve "/srv/pi swarm/50%%$$\"x/registry/private.yml""#))
    // Only the cache proxies; a proxy refuses pushes.
    #expect(!RegistryFiles.config(.private, cluster: cluster, paths: Self.paths).contains("proxy:"))
  }

  // MARK: - The head

  static func seen(_ cluster: Cluster, running: Set<RegistryRole> = Set(RegistryRole.allCases)) -> RegistryHead.State {
    RegistryHead.State(
      caCertificate: "CA", serverValid: true, serverExtensions: RegistryFiles.serverExtensions(cluster),
      configs: Dictionary(
        uniqueKeysWithValues: RegistryRole.allCases.map { ($0, RegistryFiles.config($0, cluster: cluster, paths: paths)) }),
      running: running)
  }

  @Test func aFreshHeadGetsEverythingAndAConvergedOneNothing() throws {
    let cluster = try Self.cluster("registry: true\n")
    let fresh = try RegistryHead.plan(RegistryHead.State(), cluster: cluster, paths: Self.paths)
    #expect(fresh.makeCA && fresh.issueServerCertificate && fresh.configs.count == 2 && fresh.start == [.private, .cache])
    #expect(
      RunAction.registry(plan: fresh).change
        == "make the cluster CA, issue the server certificate, private config, cache config, start private, start cache")
    #expect(RunAction.registry(plan: fresh).id == "registry on head" && RunAction.registry(plan: fresh).place == "head")
    #expect(try RegistryHead.plan(Self.seen(cluster), cluster: cluster, paths: Self.paths).isEmpty)
  }

  @Test func aChangeRestartsOnlyWhatItConcerns() throws {
    let before = try Self.cluster("registry: true\n")
    let after = try Self.cluster("registry:\n  upstream: http://10.42.0.9:5000\n")
    let plan = try RegistryHead.plan(Self.seen(before), cluster: after, paths: Self.paths)
    #expect(plan.configs.keys.sorted { $0.rawValue < $1.rawValue } == [.cache] && plan.start == [.cache] && !plan.makeCA)
    // A stopped instance (no systemd to restart it) is started again.
    #expect(try RegistryHead.plan(Self.seen(before, running: [.cache]), cluster: before, paths: Self.paths).start == [.private])
    // A new head address: a new server certificate, the same CA.
    var moved = before
    moved.head.address = try #require(IPv4Interface("10.42.0.251/24"))
    let readdressed = try RegistryHead.plan(Self.seen(before), cluster: moved, paths: Self.paths)
    #expect(readdressed.issueServerCertificate && !readdressed.makeCA && readdressed.start == [.private, .cache])
    // Under systemd: units too, and Debian's own instance on port 5000 goes.
    var systemd = Self.seen(before)
    systemd.systemd = true
    systemd.packageService = true
    let units = try RegistryHead.plan(systemd, cluster: before, paths: Self.paths)
    #expect(units.units.count == 2 && units.stopPackageService)
  }

  @Test func turnedOffItStopsAndWithoutAptItIsRefused() throws {
    let off = try Self.cluster("registry: false\n")
    #expect(try RegistryHead.plan(Self.seen(off), cluster: off, paths: Self.paths).stop == [.private, .cache])
    #expect(try RegistryHead.plan(RegistryHead.State(), cluster: off, paths: Self.paths).isEmpty)
    let on = try Self.cluster("registry: true\n")
    #expect(throws: PiSwarmError.self) {
      try RegistryHead.plan(RegistryHead.State(installed: false, apt: false), cluster: on, paths: Self.paths)
    }
    #expect(try RegistryHead.plan(RegistryHead.State(installed: false), cluster: on, paths: Self.paths).install)
  }

  /// distribution 2.8's cache exits when its upstream cannot be reached at start: a head
  /// without internet says `cache: false` and runs (and plans) the private registry alone,
  /// and nodes get no mirror for it and trust only the private port.
  @Test func withoutTheCacheTheHeadRunsOnlyThePrivateRegistryAndNodesNoMirror() throws {
    let offline = try Self.cluster("stacks:\n  web: [web.yml]\nregistry:\n  cache: false\n")
    #expect(offline.registry.enabled && !offline.registry.cache && offline.registry.roles == [.private])
    #expect(offline.registryMirrors.isEmpty)
    #expect(offline.registryTrustFolders == ["/etc/docker/certs.d/10.42.0.250:5000"])
    let node = try #require(offline.nodes.first)
    let daemon = try DaemonConfig.render(existing: nil, DaemonConfig.Settings(offline, node))
    #expect(JSONValue.parse(daemon)?["registry-mirrors"] == .array([]), "\(daemon)")
    let fresh = try RegistryHead.plan(RegistryHead.State(), cluster: offline, paths: Self.paths)
    #expect(fresh.configs.keys.map(\.self) == [.private] && fresh.start == [.private] && fresh.stop.isEmpty)
    #expect(RunAction.registry(plan: fresh).change.contains("cache") == false, "\(RunAction.registry(plan: fresh).change)")
    // Converged: nothing to do; a cache still running from before is stopped.
    var seen = Self.seen(offline, running: [.private])
    seen.configs[.cache] = nil
    #expect(try RegistryHead.plan(seen, cluster: offline, paths: Self.paths).isEmpty)
    #expect(try RegistryHead.plan(Self.seen(offline), cluster: offline, paths: Self.paths).stop == [.cache])
    // The default keeps the cache; `cache: true` says so.
    #expect(try Self.cluster("registry:\n  cache: true\n").registry.roles == [.private, .cache])
    #expect(try Self.cluster("registry: true\n").registry.cache)
  }

  // MARK: - Nodes

  @Test func nodesGetTheCAUntilTheyHoldIt() throws {
    let cluster = try Self.cluster("registry: true\n")
    let node = try #require(cluster.nodes.first)
    let ca = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"
    let hash = SHA256.hex(Data(ca.utf8))
    let daemon = try DaemonConfig.render(existing: nil, DaemonConfig.Settings(cluster, node))
    func state(_ hashes: [String]) -> EngineSetup.State {
      EngineSetup.State(
        docker: true, apt: true, daemonJSON: daemon,
        fstab: DockerStorageLayout.fstab(existing: "", storage: node.dockerStorage), storageMode: node.dockerStorage.description,
        storageMounted: true, registryCA: hashes)
    }
    // The CA is still to be made: every node gets it.
    #expect(try EngineSetup.plan(state([hash, hash]), cluster: cluster, node: node, registryCA: nil).registryCA)
    #expect(try EngineSetup.plan(state(["none", "none"]), cluster: cluster, node: node, registryCA: ca).registryCA)
    #expect(
      try EngineSetup.plan(state([hash, "none"]), cluster: cluster, node: node, registryCA: ca).actions(node) == ["registry CA"])
    #expect(try EngineSetup.plan(state([hash, hash]), cluster: cluster, node: node, registryCA: ca).isEmpty)
    // The probe's line, and the apply's parameters: the certificate in base64, the folders.
    #expect(EngineSetup.parse("docker=yes\nregistry_ca=\(hash),none\n").registryCA == [hash, "none"])
    var plan = EngineSetup.Plan()
    plan.registryCA = true
    let byName = Dictionary(
      uniqueKeysWithValues: EngineSetup.applyEnvironment(
        plan, node: node, format: false, registryCA: ca, trustFolders: cluster.registryTrustFolders
      ).map { ($0.name, $0.value) })
    #expect(byName["REGISTRY_CA"] == Data(ca.utf8).base64EncodedString())
    #expect(byName["CA_DIRS"] == "/etc/docker/certs.d/10.42.0.250:5000 /etc/docker/certs.d/10.42.0.250:5001")
    #expect(
      EngineSetup.probeEnvironment(cluster).first { $0.name == "CA_DIRS" }?.value
        == "/etc/docker/certs.d/10.42.0.250:5000 /etc/docker/certs.d/10.42.0.250:5001")
  }

  @Test func thePlannerPutsTheHeadFirstAndRefusesWhatCannotBeDone() throws {
    let cluster = try Self.cluster("registry: true\n")
    var observed = RunObservation(nodes: [:])
    observed.registry = RegistryObservation(state: RegistryHead.State(), paths: Self.paths)
    // The nodes were not read (left alone, listed first); the head comes before everything else.
    let plan = RunPlanner.plan(observed, cluster: cluster)
    #expect(plan.actions.first { $0.step != "error" }?.id == "registry on head", "\(plan.actions.map(\.id))")
    observed.registry = RegistryObservation(state: RegistryHead.State(installed: false, apt: false), paths: Self.paths)
    let refused = RunPlanner.plan(observed, cluster: cluster)
    let head = refused.actions.first { $0.place == "head" }
    #expect(head?.id == "refuse head" && refused.actions.first == head)
    #expect(head?.change.contains("docker-registry is not installed on the head") == true)
  }

  // MARK: - Output

  @Test func sizesAndTheStatusTableReadWell() {
    #expect(RegistryReport.size(512) == "512B" && RegistryReport.size(4096) == "4.0K")
    #expect(RegistryReport.size(1_189_684) == "1.1M" && RegistryReport.size(5 << 30) == "5.0G")
    let table = RegistryReport.table([
      RegistryInstanceStatus(
        role: .private, address: "10.0.0.1:5000", service: "running", reachable: true, tls: "verified", diskUsed: 2048,
        data: "/d/private"),
      RegistryInstanceStatus(
        role: .cache, address: "10.0.0.1:5001", service: "stopped", reachable: false, tls: "connection refused", data: "/d/cache",
        upstream: "https://registry-1.docker.io"),
    ])
    #expect(table.contains("private   10.0.0.1:5000  running  yes        verified"), "\(table)")
    #expect(table.contains("cache     10.0.0.1:5001  stopped  no         connection refused  -"), "\(table)")
    #expect(
      RegistryReport.text(RegistryCollection(dryRun: false, diskBefore: 4096, diskAfter: 2048, summary: "3 blobs marked"))
        == "3 blobs marked\ndisk: 4.0K before, 2.0K after\n")
  }
}
