import Foundation
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The multi-architecture test image of scripts/multiarch-image.sh: Debian's busybox-static for
/// amd64 and arm64 as a Docker manifest list, pushed through a registry's HTTP API with curl (no
/// Docker daemon on the head), trusting only the given CA.
enum MultiArchImage {
  static var script: String { RealOS.repository + "/scripts/multiarch-image.sh" }
  static let cache = ProcessInfo.processInfo.environment["PISWARM_BUSYBOX_CACHE"] ?? "/var/cache/piswarm/busybox-multiarch"
  static let programs = ["docker-registry", "openssl", "curl", "tar", "gzip", "dpkg-deb", "apt-get", "sha256sum"]

  /// `sha256:HEX` of `bytes`, as a registry names a blob (by sha256sum).
  static func digest(_ bytes: Data) throws -> String {
    "sha256:" + String(try Command("sha256sum", []).run(input: bytes).stdoutText.prefix(64))
  }

  /// The .debs, fetched once into the cache (apt reaches its mirror from the host's network).
  static func download() throws {
    let fetched = try Command("bash", [script, "--download", cache], timeout: 300).run()
    try #require(fetched.status == 0, "multiarch-image.sh --download: \(fetched.stderrText.suffix(2000))")
  }

  /// Pushes `reference` (REPOSITORY:TAG) to `registry` (https://HOST:PORT) from network
  /// namespace `namespace`; returns the list's digest and the script's stderr.
  static func push(_ registry: String, _ reference: String, ca: String, namespace: String) throws -> (String, String) {
    let pushed = try Command(
      "nsenter", ["--net=/run/netns/\(namespace)", "bash", script, registry, reference, ca, cache],
      environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], timeout: 300
    ).run()
    try #require(pushed.status == 0, "multiarch-image.sh: \(pushed.stderrText.suffix(2000))")
    return (pushed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), pushed.stderrText)
  }
}

/// The multi-arch image against a real registry (Debian's docker-registry over TLS on the
/// loopback of a namespace of its own): what was pushed is a manifest list naming linux/amd64
/// and linux/arm64/v8, each manifest's blobs are there with the digests they are named by, the
/// layers hold busybox built for that machine (ELF e_machine), the amd64 one runs here, and a
/// second push sends no blob and gives the same digest.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct MultiArchImageTests {
  @Test func busyboxForAmd64AndArm64IsPushedAsAManifestListWithoutADockerDaemon() throws {
    guard Prerequisites.require() else { return }
    let missing = MultiArchImage.programs.filter { Command.resolve($0) == nil }
    guard missing.isEmpty else {
      Issue.record("missing \(missing.joined(separator: ", ")); run 'make deps' as root")
      return
    }
    let dir = TemporaryDirectory("piswarm-multiarch")
    let namespace = "psma-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    var registry: pid_t?
    defer {
      Cleanup.kill([registry].compactMap { $0 })
      Cleanup.deleteNamespace(namespace)
    }
    try Command("ip", ["netns", "add", namespace]).check()
    try Command("ip", ["-n", namespace, "link", "set", "lo", "up"]).check()
    try Command(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.file("key"),
        "-out", dir.file("ca.crt"), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      ]
    ).check()
    dir.write(
      "registry.yml",
      """
      version: 0.1
      storage:
        filesystem:
          rootdirectory: \(dir.file("data"))
      http:
        addr: 127.0.0.1:5443
        tls:
          certificate: \(dir.file("ca.crt"))
          key: \(dir.file("key"))

      """)
    registry = try Processes.spawnDetached(
      ["nsenter", "--net=/run/netns/\(namespace)", "docker-registry", "serve", dir.file("registry.yml")],
      environment: ["PATH": "/usr/bin:/bin"], log: dir.file("registry.log"))
    func get(_ path: String, accept: String? = nil, to file: String? = nil) throws -> Command.Output {
      try Command(
        "nsenter",
        ["--net=/run/netns/\(namespace)", "curl", "-sS", "--fail", "--cacert", dir.file("ca.crt")]
          + (accept.map { ["-H", "Accept: \($0)"] } ?? []) + (file.map { ["-o", $0] } ?? [])
          + ["https://127.0.0.1:5443/v2/\(path)"], timeout: 30
      ).run()
    }
    let answering = Deadline(in: 15)
    while !answering.hasPassed, (try? get(""))?.status != 0 { usleep(200_000) }

    try MultiArchImage.download()
    let (digest, _) = try MultiArchImage.push(
      "https://127.0.0.1:5443", "piswarm/busybox:1", ca: dir.file("ca.crt"), namespace: namespace)
    #expect(digest.hasPrefix("sha256:") && digest.count == 71, "\(digest)")

    struct Descriptor: Decodable {
      struct Platform: Decodable {
        var architecture: String
        var os: String
        var variant: String?
      }
      var mediaType: String
      var digest: String
      var size: Int
      var platform: Platform?
    }
    struct Manifest: Decodable {
      var mediaType: String
      var manifests: [Descriptor]?
      var config: Descriptor?
      var layers: [Descriptor]?
    }
    let listType = "application/vnd.docker.distribution.manifest.list.v2+json"
    let listed = try get("piswarm/busybox/manifests/1", accept: listType)
    let list = try JSONDecoder().decode(Manifest.self, from: listed.stdout)
    #expect(list.mediaType == listType)
    #expect(try MultiArchImage.digest(listed.stdout) == digest, "the list is stored under the digest the script printed")
    let platforms = (list.manifests ?? []).compactMap(\.platform).map {
      "\($0.os)/\($0.architecture)\($0.variant.map { "/" + $0 } ?? "")"
    }
    #expect(platforms == ["linux/amd64", "linux/arm64/v8"])

    // Each architecture's manifest, config and layer, verified by digest; busybox built for it.
    let machines = ["amd64": 0x3E, "arm64": 0xB7]
    for entry in list.manifests ?? [] {
      let arch = try #require(entry.platform?.architecture)
      let fetched = try get(
        "piswarm/busybox/manifests/\(entry.digest)", accept: "application/vnd.docker.distribution.manifest.v2+json")
      #expect(try MultiArchImage.digest(fetched.stdout) == entry.digest && fetched.stdout.count == entry.size)
      let manifest = try JSONDecoder().decode(Manifest.self, from: fetched.stdout)
      let config = try #require(manifest.config)
      let configBytes = try get("piswarm/busybox/blobs/\(config.digest)").stdout
      #expect(try MultiArchImage.digest(configBytes) == config.digest)
      #expect(String(decoding: configBytes, as: UTF8.self).contains("\"architecture\":\"\(arch)\""))
      let layer = try #require(manifest.layers?.first)
      let layerFile = dir.file("layer-\(arch).tar.gz")
      #expect(try get("piswarm/busybox/blobs/\(layer.digest)", to: layerFile).status == 0)
      #expect(try MultiArchImage.digest(try Files.read(layerFile)) == layer.digest)
      let root = dir.file("root-\(arch)")
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
      try Command("tar", ["-xzf", layerFile, "-C", root]).check()
      let elf = [UInt8](try Files.read(root + "/bin/busybox"))
      #expect(elf.count > 20 && Array(elf[0..<4]) == [0x7F, 0x45, 0x4C, 0x46] && Int(elf[18]) == machines[arch], "\(arch)")
      if arch == "amd64" {
        let ran = try Command(root + "/bin/sh", ["-c", "echo from-the-layer"]).run()
        #expect(ran.stdoutText == "from-the-layer\n", "\(ran.stderrText)")
      }
    }

    // A second push: the same digest, no blob sent again.
    let (again, log) = try MultiArchImage.push(
      "https://127.0.0.1:5443", "piswarm/busybox:1", ca: dir.file("ca.crt"), namespace: namespace)
    #expect(again == digest)
    #expect(!log.contains(" pushed ("), "\(log)")
  }
}
