// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .treatAllWarnings(as: .error),
]

// Linux only: namespaces, mounts, openat2, /proc. SwiftPM cannot declare "Linux only", so no
// Apple platform is claimed.
let package = Package(
  name: "piswarm",
  products: [
    .executable(name: "piswarm", targets: ["piswarm"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    // `piswarm serve`: the HTTP server and the pages' templates.
    // Without its swift-configuration support, which piswarm does not use: minutes off every build.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    // Model, cluster.yml decoding and validation, renderers. No I/O.
    .target(
      name: "PiSwarmCore",
      dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
      exclude: ["Scripts"],
      swiftSettings: strict,
      plugins: ["EmbedScripts"]
    ),
    // The shell that runs on nodes lives in PiSwarmCore/Scripts/*.sh; this plugin and its tool
    // embed those files as Swift constants at build time.
    .plugin(name: "EmbedScripts", capability: .buildTool(), dependencies: ["embed-scripts"]),
    .executableTarget(name: "embed-scripts", swiftSettings: strict),
    // openat2(2), which glibc 2.36 does not wrap and Swift cannot call through syscall(2); pipe2(2).
    .target(name: "CPiSwarmSys"),
    // The version and commit a binary was built from (`make deb` sets them; `swift build` alone
    // gets "unknown commit").
    .target(name: "CPiSwarmBuildInfo"),
    // Processes, atomic file writes, locks, confined access to node roots.
    .target(
      name: "PiSwarmSystem",
      dependencies: ["PiSwarmCore", "CPiSwarmSys"],
      swiftSettings: strict
    ),
    // SQLite state: runs, steps, events, node facts.
    .target(
      name: "PiSwarmStore",
      dependencies: ["PiSwarmCore", .product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: strict
    ),
    // OpenSSH transport: ControlMaster per node, pinned host keys, bounded fan-out.
    .target(
      name: "PiSwarmSSH",
      dependencies: ["PiSwarmCore", "PiSwarmSystem"],
      swiftSettings: strict
    ),
    // Docker Engine API client (over SSH dial-stdio or a Unix socket) and swarm formation.
    .target(
      name: "PiSwarmDocker",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", "PiSwarmSSH"],
      swiftSettings: strict
    ),
    // OS images (import, store) and per-node root filesystems made from them by copy-on-write.
    .target(
      name: "PiSwarmImages",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", "CPiSwarmSys", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict
    ),
    // Netboot serving: dnsmasq configuration and service, TFTP trees, NFS exports, boot events.
    .target(
      name: "PiSwarmNetboot",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", "PiSwarmStore"],
      swiftSettings: strict
    ),
    // The head's registry: a pull-through cache and a private registry (Debian's docker-registry),
    // their cluster CA, and their services.
    .target(
      name: "PiSwarmRegistry",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", "PiSwarmNetboot"],
      swiftSettings: strict
    ),
    // Virtual nodes in namespaces, for tries and tests.
    .target(
      name: "PiSwarmLab",
      dependencies: ["PiSwarmCore", "PiSwarmSystem"],
      swiftSettings: strict
    ),
    // Power drivers: switch and read nodes' power (command templates, ClusterHAT, uhubctl, PoE over
    // SNMP, Turing Pi BMC, webhooks, the lab).
    .target(
      name: "PiSwarmPower",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", "PiSwarmSSH", "PiSwarmLab"],
      swiftSettings: strict
    ),
    // `piswarm serve`: the rack in a browser. Pages, metrics and the watcher's model are pure
    // functions; the server (Hummingbird) and the background watcher sit at its edge.
    .target(
      name: "PiSwarmServe",
      dependencies: [
        "PiSwarmCore", "PiSwarmSystem", "PiSwarmSSH", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Mustache", package: "swift-mustache"), .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    // The command tree. The only target that imports ArgumentParser.
    .target(
      name: "PiSwarmCommands",
      dependencies: [
        "PiSwarmCore", "PiSwarmSystem", "PiSwarmStore", "PiSwarmLab", "PiSwarmSSH", "PiSwarmDocker", "PiSwarmImages",
        "PiSwarmNetboot", "PiSwarmPower", "PiSwarmRegistry", "PiSwarmServe", "CPiSwarmBuildInfo",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict
    ),
    .executableTarget(
      name: "piswarm",
      dependencies: ["PiSwarmCommands"],
      swiftSettings: strict
    ),
    // A Raspberry Pi boot ROM of our own (DHCP with option 97, then TFTP), for netboot tests and
    // the boot storm: each board a state machine, any number of boards on one event loop.
    .target(
      name: "PiBootROM",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", "CPiSwarmSys", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict
    ),
    // Its command line (one board, or `--boards FILE` for many in one process); not a product.
    .executableTarget(
      name: "pi-bootrom",
      dependencies: ["PiBootROM", "PiSwarmCore", "PiSwarmSystem"],
      path: "Sources/pi-bootrom",
      swiftSettings: strict
    ),
    // Fakes and fixtures for tests; a normal library target.
    .target(
      name: "PiSwarmTestSupport",
      dependencies: ["PiSwarmCore", "PiSwarmSystem", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmCoreTests",
      dependencies: ["PiSwarmCore", "PiSwarmTestSupport", .product(name: "Crypto", package: "swift-crypto")],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmStoreTests",
      dependencies: ["PiSwarmStore", "PiSwarmSystem", "PiSwarmTestSupport"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmSystemTests",
      dependencies: ["PiSwarmSystem", "PiSwarmCore", "PiSwarmTestSupport"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmImagesTests",
      dependencies: [
        "PiSwarmImages", "PiSwarmSystem", "PiSwarmCore", "PiSwarmTestSupport",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmNetbootTests",
      dependencies: ["PiSwarmNetboot", "PiSwarmCore", "PiSwarmSystem", "PiSwarmTestSupport"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmSSHTests",
      dependencies: ["PiSwarmSSH", "PiSwarmCore", "PiSwarmSystem", "PiSwarmTestSupport"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmDockerTests",
      dependencies: ["PiSwarmDocker", "PiSwarmCore", "PiSwarmSystem", "PiSwarmTestSupport"],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmPowerTests",
      dependencies: ["PiSwarmPower", "PiSwarmCore", "PiSwarmSystem", "PiSwarmSSH", "PiSwarmTestSupport"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmServeTests",
      dependencies: ["PiSwarmServe", "PiSwarmCore", "PiSwarmSystem", "PiSwarmTestSupport"],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiBootROMTests",
      dependencies: ["PiBootROM", "PiSwarmCore"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmLabTests",
      dependencies: ["PiSwarmLab", "PiSwarmCore", "PiSwarmTestSupport"],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
    // Needs root, namespaces, sshd and dockerd: the real components. Run by `make test` and CI.
    .testTarget(
      name: "PiSwarmIntegrationTests",
      dependencies: [
        "PiSwarmSystem", "PiSwarmCore", "PiSwarmStore", "PiSwarmPower", "PiSwarmTestSupport", "piswarm", "pi-bootrom",
      ],
      exclude: ["Fixtures"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "PiSwarmCommandsTests",
      dependencies: [
        "PiSwarmCommands", "PiSwarmStore", "PiSwarmSystem", "PiSwarmDocker", "PiSwarmCore", "PiSwarmTestSupport", "piswarm",
      ],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
  ]
)
