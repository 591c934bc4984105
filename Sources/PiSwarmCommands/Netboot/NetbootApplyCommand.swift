import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSSH
import PiSwarmSystem

struct NetbootApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Write the netboot files that changed; restart dnsmasq if its configuration did.",
    discussion: """
      Makes each netboot node's root under head.nfs_root from defaults.image, with its identity
      (as 'piswarm root make' does; existing roots converge), unless --files-only or --no-roots
      is given (--roots makes them with --files-only too). Writes head.dnsmasq_conf, the
      per-node folders under head.tftp_root (world-readable: dnsmasq serves as nobody), and in
      the state directory the dnsmasq hook script, exports (for nfs-kernel-server) and
      ganesha.conf. Each file is written atomically and only when its
      content changed. Folders of nodes no longer in the cluster file are removed (only those
      piswarm made). dnsmasq is restarted through systemd only when its configuration changed.
      --files-only writes the files and nothing else: no restart, no reload, no node root (a root
      is a clone or an overlay mount), no write outside the cluster file's paths and the state
      directory.

      The firmware (start*.elf, fixup*.dat, kernels, device trees, overlays) is linked from the
      image store, STATE/images/IMAGE/boot, or from --firmware.

      Examples:
        piswarm netboot apply
        piswarm netboot apply --files-only --json
        piswarm netboot apply --files-only --roots
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Write the files only: restart nothing, make no node roots (no mounts) unless --roots.")
  var filesOnly = false

  @Flag(help: "Make the node roots also with --files-only.")
  var roots = false

  @Option(help: "The firmware folder to link for every node (default: the image store's boot folder of defaults.image).")
  var firmware: String?

  @Option(name: .customLong("dnsmasq-option"), help: ArgumentHelp("An extra dnsmasq option line (tests).", visibility: .hidden))
  var dnsmasqOptions: [String] = []

  @Flag(help: "Print JSON on stdout.")
  var json = false

  @Flag(help: "Leave the node roots alone (write only the boot and server files).")
  var noRoots = false

  /// Whether this run makes node roots: by default yes, with --files-only only when --roots.
  var makesRoots: Bool { roots || (!filesOnly && !noRoots) }

  func validate() throws {
    if roots && noRoots { throw ValidationError("--roots and --no-roots contradict each other; give one") }
  }

  func run() throws {
    var rootsFailed = false
    // Ctrl-C finishes the step under way (a root being copied, a file being written), skips the
    // rest and exits 130: no half-made root, no temporary copy, nothing left mounted.
    Interrupts.install(signalChildren: false)
    try reporting {
      let loaded = try global.loadCluster()
      if let exposure = LANExposure.warning(loaded.cluster) { Console.err("\(loaded.path): warning: \(exposure)") }
      let result = try global.mutating(commandLine) { journal throws(PiSwarmError) -> NetbootApply.Result? in
        let cluster = loaded.cluster
        let netbootNodes = cluster.nodes.filter { $0.boot == .netboot }
        if makesRoots, !netbootNodes.isEmpty {
          if let image = cluster.defaults.image {
            rootsFailed =
              try NodeRoots.make(cluster, nodes: netbootNodes, image: image, method: nil, global: global, journal: journal).failed
          } else {
            Console.err("warning: no defaults.image in \(loaded.path): node roots were not made (see 'piswarm image import')")
          }
        }
        guard !Cancellation.isCancelled else { return nil }
        let started = Date()
        let options = NetbootStep.options(
          cluster, store: journal.store, filesOnly: filesOnly, firmware: firmware.map(Files.absolute),
          dnsmasqExtra: dnsmasqOptions)
        let result = try NetbootApply.run(
          loaded.cluster, paths: NetbootPaths(stateDirectory: Files.absolute(global.stateDirectory)), options: options)
        try journal.step(node: "head", "netboot apply", .succeeded, started: started)
        return result
      }
      try Interrupts.finish("the netboot files were not all written")
      guard let result else { return }
      for warning in result.warnings { Console.err("warning: \(warning)") }
      if json {
        Console.out(try Console.json(result))
        return
      }
      for change in result.changes { Console.out("\(change.action.rawValue) \(change.path)\n") }
      Console.err(
        "\(result.changes.count) change(s); \(result.folders.count) node folder(s); dnsmasq: \(result.dnsmasq)")
    }
    if rootsFailed { throw Exit.failure }
  }
}
