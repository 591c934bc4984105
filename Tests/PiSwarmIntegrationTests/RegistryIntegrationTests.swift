import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// The head's registry for real, on a 5-node lab whose head is this machine: Debian's
/// docker-registry started by `piswarm up` (supervised processes where systemd does not run),
/// the nodes' dockerds trusting the cluster CA piswarm installed. An upstream registry in
/// node03's network namespace stands in for Docker Hub: nothing leaves the lab.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct RegistryIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  static let programs = ["docker-registry", "openssl", "curl", "tar"]

  /// An image tar made on the head from local files: one file of random text, so that its
  /// layer is on no node yet and every pull must fetch it; with `shell`, Debian's busybox-static
  /// as /bin/sh too, so that it runs.
  static func imageTar(_ folder: String, _ name: String, shell: Bool = false) throws -> String {
    let root = folder + "/" + name
    try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
    try "\(name) \(UInt64.random(in: 0...UInt64.max))\n".write(toFile: root + "/stamp", atomically: true, encoding: .utf8)
    if shell {
      try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
      for tool in ["sh", "sleep"] {
        try FileManager.default.createSymbolicLink(atPath: root + "/bin/" + tool, withDestinationPath: "busybox")
      }
    }
    let tar = folder + "/\(name).tar"
    try Command("tar", ["-C", root, "-cf", tar, "."]).check()
    return tar
  }

  /// Access-log lines (`ADDR - - [time] "GET PATH HTTP/1.1" STATUS …`) of blob GETs answered 200.
  static func blobFetches(_ log: String, repository: String) -> [(from: String, digest: String)] {
    log.split(separator: "\n").compactMap { line in
      guard let match = line.firstMatch(of: #/^(\S+) - - \[[^\]]*\] "GET /v2/(\S+)/blobs/(sha256:[0-9a-f]{64}) [^"]*" 200 /#),
        match.2 == repository
      else { return nil }
      return (String(match.1), String(match.3))
    }
  }

  /// Imports the tar at `tar` (a file on the head) into `ip`'s dockerd as `name`, through ssh's
  /// stdin (the node sees its own /tmp), and pushes it.
  static func importAndPush(_ lab: Lab, _ ip: String, _ tar: String, _ name: String) throws -> Command.Output {
    try Command(
      "ssh",
      [
        "-i", "\(lab.state.path)/labs/\(lab.name)/id_ed25519", "-o", "UserKnownHostsFile=\(lab.state.path)/known_hosts",
        "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
        "root@\(ip)", "docker import - \(name) >/dev/null && docker push \(name)",
      ], timeout: 120
    ).run(input: try Files.read(tar))
  }

  @Test func privateRegistryOverTLSAndASecondPullServedFromTheCache() throws {
    guard Prerequisites.require() else { return }
    let missing = Self.programs.filter { Command.resolve($0) == nil }
    guard missing.isEmpty else {
      Issue.record("missing \(missing.joined(separator: ", ")); run 'make deps' as root")
      return
    }
    let lab = Lab()
    var upstream: pid_t?
    let registryFolder = lab.state.path + "/registry"
    defer {
      // The upstream by the PID it was given; piswarm's own instances go with the lab.
      Cleanup.kill([upstream].compactMap { $0 })
      lab.down()
    }
    let file = try lab.up(nodes: 5, managers: 1)
    let index = try #require(try String(contentsOfFile: file, encoding: .utf8).firstMatch(of: /address: 10\.231\.(\d+)\.1\//)?.1)
    let ip = { (n: Int) in "10.231.\(index).1\(n)" }
    let head = "10.231.\(index).1"

    // Docker Hub's stand-in: plain HTTP in node03's namespace (the head's cache reaches it on
    // the lab bridge; node03 pushes to it on its loopback, which dockerd allows without TLS).
    let work = lab.state.path + "/work"
    try FileManager.default.createDirectory(atPath: work + "/upstream-data", withIntermediateDirectories: true)
    let upstreamConfig = work + "/upstream.yml"
    try """
    version: 0.1
    log:
      accesslog:
        disabled: false
    storage:
      filesystem:
        rootdirectory: \(work)/upstream-data
    http:
      addr: :5002
    """.write(toFile: upstreamConfig, atomically: true, encoding: .utf8)
    let upstreamLog = work + "/upstream.log"
    upstream = try Processes.spawnDetached(
      [
        try #require(Command.resolve("nsenter")), "--net=/run/netns/pslab-\(lab.name)-node03",
        try #require(Command.resolve("docker-registry")),
        "serve", upstreamConfig,
      ],
      environment: ["PATH": "/usr/bin:/bin"], log: upstreamLog)
    let answering = Deadline(in: 15)
    while !answering.hasPassed,
      (try? Command("curl", ["-s", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "http://\(ip(3)):5002/v2/"]).run()
        .stdoutText) != "200"
    {
      usleep(200_000)
    }
    let tool = try Self.imageTar(work, "tool")
    let seeded = try Self.importAndPush(lab, ip(3), tool, "127.0.0.1:5002/piswarmtest/tool:1")
    try #require(seeded.status == 0, "\(seeded.stderrText)")

    // The registry on, its cache in front of the stand-in.
    try (String(contentsOfFile: file, encoding: .utf8) + "registry:\n  upstream: http://\(ip(3)):5002\n")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let plan = try lab.piswarm(["--file", file, "plan", "--json"])
    let planned = try JSONSerialization.jsonObject(with: plan.stdout) as? [[String: String]] ?? []
    #expect(
      planned.contains {
        $0["node"] == "head" && $0["action"] == "registry on head" && $0["change"]?.contains("make the cluster CA") == true
      },
      "\(plan.stdoutText)")
    #expect(planned.contains { $0["node"] == "node02" && $0["change"]?.contains("registry CA") == true })
    #expect(!Files.exists(registryFolder + "/ca.key"), "plan changes nothing")

    // Swarm tasks pull here (a lab's nodes use only the images they have, unless told), so
    // that a stack's tasks pull from the head; the dockerd restart of `up` takes it up.
    for n in 1...5 {
      #expect(try lab.ssh(ip(n), "echo DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=0 >/etc/default/docker").status == 0)
    }
    let up = try lab.piswarm(["--file", file, "up"], timeout: 400)
    try #require(up.status == 0, "\(up.stderrText)")
    #expect(!(up.stdoutText + up.stderrText).contains("PRIVATE KEY"))
    for key in ["ca.key", "server.key"] {
      #expect(try FileManager.default.attributesOfItem(atPath: "\(registryFolder)/\(key)")[.posixPermissions] as? Int == 0o600)
    }
    // Every node trusts the cluster CA for both instances, names the cache as its mirror, and
    // has no insecure registry.
    let ca = try #require(Files.readWhole(registryFolder + "/ca.crt"))
    for n in 1...5 {
      #expect(try lab.ssh(ip(n), "cat /etc/docker/certs.d/\(head):5000/ca.crt").stdoutText == ca)
      #expect(try lab.ssh(ip(n), "cat /etc/docker/certs.d/\(head):5001/ca.crt").stdoutText == ca)
      let mirrors = try lab.ssh(ip(n), "docker info --format '{{json .RegistryConfig.Mirrors}}'").stdoutText
      #expect(mirrors == "[\"https://\(head):5001/\"]\n", "\(mirrors)")
      #expect(!(try lab.ssh(ip(n), "cat /etc/docker/daemon.json").stdoutText.contains("insecure")))
    }
    // A second up has nothing to do.
    let again = try lab.piswarm(["--file", file, "plan", "--json"])
    let rows = try JSONSerialization.jsonObject(with: again.stdout) as? [[String: String]] ?? []
    #expect(rows.allSatisfy { $0["step"] == "preflight" || $0["change"] == "unchanged" }, "\(again.stdoutText)")

    // (a) An image made on the head from local files, imported by node01's dockerd and pushed
    // over TLS; node02 and node03 pull it. Without the CA, TLS does not verify.
    #expect(try Command("curl", ["-sS", "--noproxy", "*", "https://\(head):5000/v2/"]).run().status == 60)
    let app = try Self.imageTar(work, "app")
    let name = "\(head):5000/piswarmtest/app:1"
    let pushed = try Self.importAndPush(lab, ip(1), app, name)
    try #require(pushed.status == 0, "\(pushed.stdoutText)\(pushed.stderrText)")
    for n in [2, 3] {
      let pulled = try lab.ssh(ip(n), "docker pull \(name)")
      #expect(pulled.status == 0, "\(pulled.stderrText)")
    }
    let privateLog = Files.readWhole(registryFolder + "/private.log") ?? ""
    let appFetches = Self.blobFetches(privateLog, repository: "piswarmtest/app")
    #expect(Set(appFetches.map(\.from)) == [ip(2), ip(3)], "\(appFetches)")

    // (b) A Docker Hub name, pulled through the head's cache. node01's pull makes the cache
    // fetch each blob from upstream (distribution 2.8 fetches a missed blob twice at once: one
    // copy to store, one streamed to the client); node02's pull is served from the cache alone.
    func upstreamFetches() -> [(from: String, digest: String)] {
      Self.blobFetches(Files.readWhole(upstreamLog) ?? "", repository: "piswarmtest/tool").filter { $0.from == head }
    }
    let first = try lab.ssh(ip(1), "docker pull piswarmtest/tool:1")
    #expect(first.status == 0, "\(first.stderrText)")
    let afterFirst = upstreamFetches()
    let second = try lab.ssh(ip(2), "docker pull piswarmtest/tool:1")
    #expect(second.status == 0, "\(second.stderrText)")
    let cacheFetches = Self.blobFetches(Files.readWhole(registryFolder + "/cache.log") ?? "", repository: "piswarmtest/tool")
    #expect(Set(cacheFetches.map(\.from)) == [ip(1), ip(2)], "\(cacheFetches)")
    let digests = Set(cacheFetches.map(\.digest))
    #expect(!digests.isEmpty && Set(afterFirst.map(\.digest)) == digests, "\(afterFirst)")
    #expect(upstreamFetches().count == afterFirst.count, "node02's pull reached upstream: \(upstreamFetches())")
    #expect(cacheFetches.filter { $0.from == ip(2) }.count == digests.count, "\(cacheFetches)")

    // Status and garbage collection on demand.
    let status = try lab.piswarm(["--file", file, "registry", "status", "--json"])
    #expect(status.status == 0, "\(status.stdoutText)\(status.stderrText)")
    let instances = try JSONSerialization.jsonObject(with: status.stdout) as? [[String: Any]] ?? []
    #expect(
      instances.count == 2 && instances.allSatisfy { $0["reachable"] as? Bool == true && $0["tls"] as? String == "verified" })
    let gc = try lab.piswarm(["--file", file, "registry", "gc", "--json"])
    #expect(gc.status == 0, "\(gc.stderrText)")
    #expect(gc.stdoutText.contains("eligible for deletion"), "\(gc.stdoutText)")
    // The private registry is back, and still serves the image.
    #expect(try lab.ssh(ip(3), "docker rmi \(name) >/dev/null && docker pull \(name)").status == 0)

    // (c) A stack whose image comes from the head's registry: web ×4 on the nodes labelled
    // tier=web, agent on every node. The image is made on the head, pushed through node01
    // (then removed there), so every node pulls it over TLS while the stack deploys.
    let stackImage = "\(head):5000/piswarmtest/stackapp:1"
    let stackTar = try Self.imageTar(work, "stackapp", shell: true)
    let stackPushed = try Self.importAndPush(lab, ip(1), stackTar, stackImage)
    try #require(stackPushed.status == 0, "\(stackPushed.stderrText)")
    #expect(try lab.ssh(ip(1), "docker rmi \(stackImage) >/dev/null").status == 0)
    var text = try String(contentsOfFile: file, encoding: .utf8)
    for n in 2...5 {
      text = text.replacingOccurrences(of: "  - name: node0\(n)\n", with: "  - name: node0\(n)\n    labels: { tier: web }\n")
    }
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    let labelled = try lab.piswarm(["--file", file, "up"], timeout: 400)
    try #require(labelled.status == 0, "\(labelled.stderrText)")
    let compose = work + "/app.yml"
    try StackIntegrationTests.compose.replacingOccurrences(of: "piswarm/base:latest", with: stackImage)
      .write(toFile: compose, atomically: true, encoding: .utf8)
    let deploy = try lab.piswarm(["--file", file, "stack", "deploy", "app", "-c", compose, "--json"], timeout: 400)
    #expect(deploy.status == 0, "\(deploy.stdoutText)\(deploy.stderrText)")
    let ps = try lab.piswarm(["--file", file, "stack", "ps", "app", "--json"])
    let tasks = try JSONSerialization.jsonObject(with: ps.stdout) as? [[String: Any]] ?? []
    #expect(tasks.count == 9 && tasks.allSatisfy { $0["state"] as? String == "running" }, "\(ps.stdoutText)")
    #expect(tasks.filter { $0["service"] as? String == "app_web" }.allSatisfy { $0["node"] as? String != "node01" })
    let stackFetches = Self.blobFetches(
      Files.readWhole(registryFolder + "/private.log") ?? "", repository: "piswarmtest/stackapp")
    #expect(Set(stackFetches.map(\.from)) == Set((1...5).map(ip)), "every node pulls from the head: \(stackFetches)")
    // Drained, node05's tasks move; deploying again changes nothing.
    #expect(try lab.ssh(ip(1), "docker node update --availability drain node05").status == 0)
    let moved = Deadline(in: 60)
    var placed: [[String: Any]] = []
    repeat {
      usleep(500_000)
      let rows = try lab.piswarm(["--file", file, "stack", "ps", "app", "--json"])
      placed = try JSONSerialization.jsonObject(with: rows.stdout) as? [[String: Any]] ?? []
    } while !moved.hasPassed
      && !(placed.filter { $0["service"] as? String == "app_web" && $0["state"] as? String == "running" }.count == 4
        && placed.allSatisfy { $0["node"] as? String != "node05" })
    #expect(placed.allSatisfy { $0["node"] as? String != "node05" }, "\(placed)")
    let redeploy = try lab.piswarm(["--file", file, "stack", "deploy", "app", "-c", compose, "--json"], timeout: 400)
    #expect(redeploy.status == 0, "\(redeploy.stderrText)")
    let unchanged = try JSONSerialization.jsonObject(with: redeploy.stdout) as? [String: Any]
    #expect(unchanged?["changed"] as? Bool == false, "\(redeploy.stdoutText)")
  }
}
