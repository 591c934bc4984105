import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

@Suite struct MBRTests {
  static let boot = MBR.Partition(number: 1, type: 0x0c, firstSector: 8192, sectorCount: 1_048_576)
  static let root = MBR.Partition(number: 2, type: 0x83, firstSector: 1_056_768, sectorCount: 4_194_304)

  @Test func aRaspberryPiOSTableRoundTrips() throws {
    let sector = MBR.encode([Self.boot, Self.root])
    let layout = try MBR.layout(sector, imageSize: Self.root.end, name: "raspios.img")
    #expect(layout.partitions == [Self.boot, Self.root])
    #expect(layout.boot == Self.boot)
    #expect(layout.root == Self.root)
    #expect(layout.boot.offset == 4_194_304)
    #expect(layout.root.end == (1_056_768 + 4_194_304) * 512)
  }

  @Test func theRealRaspiosBytesParse() throws {
    // Partition entries as in 2024-11-19-raspios-bookworm-arm64-lite.img (fdisk -l):
    // 1: start 8192, 1048576 sectors, type c; 2: start 1056768, 4808704 sectors, type 83.
    var sector = [UInt8](repeating: 0, count: 512)
    let entries: [[UInt8]] = [
      [0x00, 0x00, 0x01, 0x40, 0x0C, 0x03, 0xE0, 0xFF, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00],
      [0x00, 0x03, 0xE0, 0xFF, 0x83, 0x03, 0xE0, 0xFF, 0x00, 0x20, 0x10, 0x00, 0x00, 0x60, 0x49, 0x00],
    ]
    for (index, entry) in entries.enumerated() { sector.replaceSubrange((446 + index * 16)..<(462 + index * 16), with: entry) }
    sector[510] = 0x55
    sector[511] = 0xAA
    let layout = try MBR.layout(sector, name: "raspios.img")
    #expect(layout.boot.firstSector == 8192 && layout.boot.sectorCount == 1_048_576)
    #expect(layout.root.firstSector == 1_056_768 && layout.root.sectorCount == 4_808_704)
  }

  @Test func fat32WithCHSTypeIsABootPartition() throws {
    var boot = Self.boot
    boot.type = 0x0b
    #expect(try MBR.layout(MBR.encode([boot, Self.root]), name: "x.img").boot.type == 0x0b)
  }

  static let malformed: [(String, [UInt8], UInt64?, String)] = [
    ("short", [UInt8](repeating: 0, count: 100), nil, "too short to be a disk image"),
    ("unsigned", [UInt8](repeating: 0, count: 512), nil, "no MBR partition table"),
    ("gpt", MBR.encode([MBR.Partition(number: 1, type: 0xEE, firstSector: 1, sectorCount: 1000)]), nil, "is a GPT disk"),
    (
      "overlap",
      MBR.encode([boot, MBR.Partition(number: 2, type: 0x83, firstSector: 8192 + 1000, sectorCount: 100)]), nil,
      "partitions 1 and 2 overlap"
    ),
    ("beyond", MBR.encode([boot, root]), 600_000_000, "partition 2 ends at byte 2688548864, beyond the image's 600000000 bytes"),
    (
      "sector0", MBR.encode([MBR.Partition(number: 1, type: 0x0c, firstSector: 0, sectorCount: 10), root]), nil,
      "starts at sector 0"
    ),
    (
      "nofat", MBR.encode([MBR.Partition(number: 2, type: 0x83, firstSector: 2048, sectorCount: 10)]), nil,
      "has no FAT boot partition"
    ),
    ("noroot", MBR.encode([boot]), nil, "has no Linux root partition"),
    ("empty", MBR.encode([]), nil, "has no FAT boot partition (partitions none)"),
  ]

  @Test(arguments: malformed)
  func malformedTablesAreRejectedWithTheReason(_ testCase: (String, [UInt8], UInt64?, String)) {
    let (name, sector, size, expected) = testCase
    do {
      _ = try MBR.layout(sector, imageSize: size, name: "\(name).img")
      Issue.record("\(name): accepted")
    } catch {
      #expect(error.code == .invalidInput)
      #expect(error.message.contains(expected), "\(name): \(error.message)")
      #expect(error.message.hasPrefix("\(name).img"), "names the file: \(error.message)")
      #expect(error.advice != nil)
    }
  }
}

@Suite struct ImageFileTests {
  @Test(
    arguments: [
      ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00], ImageCompression.xz),
      ([0x1F, 0x8B, 0x08], .gzip),
      ([0x28, 0xB5, 0x2F, 0xFD], .zstd),
      ([0x33, 0xC0, 0x8E, 0xD0], .none),
      ([], .none),
    ] as [([UInt8], ImageCompression)])
  func compressionIsToldByMagicBytes(_ magic: [UInt8], _ expected: ImageCompression) {
    #expect(ImageCompression.detect(magic) == expected)
  }

  @Test(arguments: [
    ("/downloads/2024-11-19-raspios-bookworm-arm64-lite.img.xz", "2024-11-19-raspios-bookworm-arm64-lite"),
    ("raspios.img", "raspios"),
    ("Raspios Lite.IMG.GZ", "raspios-lite"),
    ("disk.img.zst", "disk"),
    (".hidden.img", "hidden"),
  ])
  func defaultNames(_ path: String, _ expected: String) {
    #expect(ImageName.defaultName(forFile: path) == expected)
    #expect(ImageName.problem(with: expected) == nil)
  }

  @Test(arguments: ["", "-x", ".x", "A", "a/b", "a b", String(repeating: "a", count: 101)])
  func badNames(_ name: String) {
    #expect(ImageName.problem(with: name) != nil)
  }

  @Test func osReleasePrettyName() {
    let text = """
      PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
      NAME="Debian GNU/Linux"
      VERSION_ID="12"
      # comment
      ID=debian
      HOME_URL='https://www.debian.org/'
      ESCAPED="a \\"quoted\\" word"
      """
    #expect(OSRelease.prettyName(text) == "Debian GNU/Linux 12 (bookworm)")
    let fields = OSRelease.parse(text)
    #expect(fields["ID"] == "debian")
    #expect(fields["HOME_URL"] == "https://www.debian.org/")
    #expect(fields["ESCAPED"] == "a \"quoted\" word")
    #expect(OSRelease.prettyName("NAME=Alpine\nVERSION=3.20\n") == "Alpine 3.20")
    #expect(OSRelease.prettyName("") == nil)
  }

  @Test func progressLine() {
    #expect(
      ProgressLine.render(label: "importing a.img.xz", done: 220_200_960, total: 488_636_416)
        == "importing a.img.xz [#########-----------]  45%  210.0 MiB / 466.0 MiB")
    #expect(ProgressLine.render(label: "x", done: 0, total: 0, width: 4) == "x [####] 100%  0.0 MiB / 0.0 MiB")
    #expect(ProgressLine.render(label: "x", done: 5, total: 2, width: 4).contains("100%"))
  }

  @Test func imageTableMatchesGolden() {
    let entries = [
      ImageListing.Entry(
        name: "bookworm", osRelease: "Debian GNU/Linux 12 (bookworm)", kernels: ["kernel8.img", "kernel_2712.img"],
        modules: ["6.6.51+rpt-rpi-2712", "6.6.51+rpt-rpi-v8"], imageSize: 2_759_852_032,
        sha256: "6ac3a10a1f144c7e9d1f8e568d75ca809288280a593eb6ca053e49b539f465a4", source: "/tmp/raspios.img.xz",
        importedAt: "2026-11-22T05:00:00Z", roots: ["node01", "node02"])
    ]
    if let problem = Golden.check(ImageListing.table(entries), named: "image-ls.txt") { Issue.record(Comment(rawValue: problem)) }
    let roots = [
      RootListing.Entry(
        node: "node01", image: "trixie", method: "overlay", path: "/srv/piswarm/nfs/.roots/node01/2", hostKey: "SHA256:abc",
        ready: true,
        generations: [
          RootGeneration(
            node: "node01", number: 1, image: "bookworm", method: .overlay, path: "/srv/piswarm/nfs/node01", role: .previous,
            purpose: "root make"),
          RootGeneration(
            node: "node01", number: 2, image: "trixie", method: .overlay, path: "/srv/piswarm/nfs/.roots/node01/2",
            role: .current, purpose: "upgrade to trixie"),
        ].map(RootListing.Generation.init)),
      RootListing.Entry(
        node: "node02", image: "bookworm", method: "overlay", path: "/srv/piswarm/nfs/node02", hostKey: "SHA256:def",
        ready: false,
        generations: [
          RootListing.Generation(
            RootGeneration(
              node: "node02", number: 1, image: "bookworm", method: .overlay, path: "/srv/piswarm/nfs/node02", role: .current,
              purpose: "root make"))
        ]),
    ]
    if let problem = Golden.check(RootListing.table(roots), named: "root-ls.txt") { Issue.record(Comment(rawValue: problem)) }
  }
}

@Suite struct NodeIdentityTests {
  static let identity = NodeIdentity(
    node: "node01", ip: IPv4Address("10.42.0.1")!, headIP: IPv4Address("10.42.0.250")!, nfsPath: "/srv/piswarm/nfs/node01",
    authorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey piswarm@sevastopol\n")

  @Test func identityFilesMatchGolden() {
    var all = ""
    for file in Self.identity.files {
      all += "==> \(file.path) (mode \(String(file.mode, radix: 8)))\n\(file.content)"
    }
    all += "==> /etc/machine-id\n" + NodeIdentity.machineID("b7ae206cb898a5b27f4646bfe8006a61")
    all +=
      "==> known_hosts line\n"
      + ((try? SSHHostKey(parsing: "ssh-ed25519 \(SSHHostKeyTests.blob) root@node01\n"))
        .map { NodeIdentity.knownHostsLine(ip: Self.identity.ip, key: $0) } ?? "not a key") + "\n"
    if let problem = Golden.check(all, named: "node-identity.txt") { Issue.record(Comment(rawValue: problem)) }
  }

  /// A root with Docker storage gets docker.service's drop-in before its first boot, the same
  /// one 'piswarm up' writes: dockerd never starts on the NFS root.
  @Test func dockerWaitsForItsStorageFromTheFirstBoot() {
    var identity = Self.identity
    #expect(!identity.files.contains { $0.path == DockerStorageLayout.systemdDropIn })
    identity.dockerStorage = .loopfile(.gibibytes(2))
    let dropIn = identity.files.first { $0.path == DockerStorageLayout.systemdDropIn }
    #expect(dropIn?.content == DockerStorageLayout.systemdDropInText(.loopfile(.gibibytes(2))))
    #expect(identity.fstab.contains(DockerStorageLayout.loopfile))
  }

  @Test func fstabMountsTheNodesOwnRootOverNFSv3() {
    #expect(Self.identity.fstab.contains("10.42.0.250:/srv/piswarm/nfs/node01\t/\tnfs\tdefaults,nfsvers=3,tcp"))
    #expect(Self.identity.hosts.contains("10.42.0.1\tnode01\n"))
    #expect(Self.identity.hosts.contains("10.42.0.250\tpiswarm-head\n"))
  }

  @Test(arguments: [
    ("b7ae206cb898a5b27f4646bfe8006a61\n", true), ("b7ae206cb898a5b27f4646bfe8006a61", true),
    ("B7AE206CB898A5B27F4646BFE8006A61\n", false), ("", false), ("uninitialized\n", false),
    (String(repeating: "0", count: 32), false), ("b7ae206cb898a5b27f4646bfe8006a6", false),
  ])
  func machineIDs(_ text: String, _ valid: Bool) {
    #expect(NodeIdentity.isMachineID(text) == valid)
  }

  @Test(arguments: [
    ("btrfs", true, true, RootMethod.snapshot), ("ext4", true, false, .overlay), ("xfs", true, true, .overlay),
    ("xfs", false, true, .reflink), ("ext4", false, false, .copy), ("tmpfs", true, false, .copy),
    ("0x1234", false, true, .reflink),
  ])
  func bestMethod(_ filesystem: String, _ overlay: Bool, _ reflink: Bool, _ expected: RootMethod) {
    let capabilities = RootMethod.Capabilities(filesystem: filesystem, overlay: overlay, reflink: reflink)
    #expect(RootMethod.best(for: capabilities) == expected)
    #expect(RootMethod.problem(expected, with: capabilities) == nil)
  }

  @Test func impossibleMethodsSayWhy() {
    let ext4 = RootMethod.Capabilities(filesystem: "ext4", overlay: true, reflink: false)
    #expect(RootMethod.problem(.snapshot, with: ext4)?.contains("need btrfs") == true)
    #expect(RootMethod.problem(.reflink, with: ext4)?.contains("reflink") == true)
    #expect(RootMethod.problem(.copy, with: ext4) == nil)
  }

  @Test func layoutKeepsHelpersOutOfNodeNames() {
    let layout = RootLayout(nfsRoot: "/srv/piswarm/nfs")
    #expect(layout.root("node01") == "/srv/piswarm/nfs/node01")
    #expect(layout.base("bookworm") == "/srv/piswarm/nfs/.base/bookworm")
    #expect(
      layout.overlayOptions(image: "bookworm", node: "node01")
        == "lowerdir=/srv/piswarm/nfs/.lower/bookworm,upperdir=/srv/piswarm/nfs/.upper/node01/upper,"
        + "workdir=/srv/piswarm/nfs/.upper/node01/work,index=on,nfs_export=on,xino=on")
  }
}

@Suite struct GaneshaRootExportsTests {
  @Test func configurationMatchesGolden() {
    let config = GaneshaRootExports(
      exports: [
        .init(node: "node01", client: IPv4Address("10.42.0.1")!, path: "/srv/piswarm/nfs/node01"),
        .init(node: "node02", client: IPv4Address("10.42.0.2")!, path: "/srv/piswarm/nfs/node02"),
      ],
      recoveryRoot: "/var/lib/piswarm/ganesha", bindAddress: IPv4Address("10.42.0.250")!)
    if let problem = Golden.check(config.render(), named: "ganesha-roots.conf") { Issue.record(Comment(rawValue: problem)) }
    let text = config.render()
    #expect(!text.contains("Clients = *"))
    #expect(text.contains("Mount_Path_Pseudo = true;") && text.contains("Graceless = true;"))
    #expect(text.contains("Only_Numeric_Owners = true;"))
  }
}
