import Foundation
import PiSwarmCore
import PiSwarmSystem

extension ServiceControl {
  public var kernelExportsFile: String? { nil }
  public func reloadExports() throws(PiSwarmError) {}
  public var ganeshaMainConfig: String? { nil }
}

/// `piswarm netboot apply`: renders every netboot file from the cluster and writes those that
/// changed; restarts dnsmasq only when its configuration changed.
public enum NetbootApply {
  public struct Options: Sendable {
    /// Write files, restart nothing.
    public var filesOnly: Bool
    /// The firmware folder for every node; nil: the image store's `STATE/images/IMAGE/boot`.
    public var firmwareDirectory: String?
    /// Extra dnsmasq option lines (tests: `no-ping`).
    public var dnsmasqExtra: [String]
    /// What nodes last reported as their bootloader configuration (`bootloader_config` facts):
    /// a node running its `eeprom:` settings is offered no update.
    public var eepromReported: [String: String] = [:]
    /// Compute what a run would change and which restarts it would make, and write nothing
    /// (`plan`): `changes` and `owed` say it.
    public var dryRun = false
    /// Write the files (as without --files-only), restart nothing: the restarts they owe are in
    /// `owed`, for `restart` (`up` runs them as actions of their own).
    public var deferRestarts = false

    /// Restarts are left owed, not made.
    var defersRestarts: Bool { dryRun || deferRestarts }

    public init(filesOnly: Bool, firmwareDirectory: String?, dnsmasqExtra: [String]) {
      self.filesOnly = filesOnly
      self.firmwareDirectory = firmwareDirectory
      self.dnsmasqExtra = dnsmasqExtra
    }
  }

  public struct Result: Sendable, Codable {
    public var changes: [FileChange]
    public var dnsmasqConfig: String
    public var dnsmasqChanged: Bool
    /// `restarted`, `unchanged`, `not restarted (--files-only)`, `unchanged (restart owed …)`,
    /// or why it could not be restarted.
    public var dnsmasq: String
    public var folders: [BootTree.Folder]
    public var warnings: [String]
    /// The kernel NFS server's exports: `reloaded`, `unchanged`, `not reloaded (--files-only)`,
    /// or that there is none.
    public var exports: String
    /// Restarts and reloads owed and not made (a dry run, or `deferRestarts`), in the order
    /// they are made.
    public var owed: [NetbootRestart] = []
  }

  public static func run(
    _ cluster: Cluster, paths: NetbootPaths, options: Options, services: any ServiceControl = SystemdServices()
  ) throws(PiSwarmError) -> Result {
    var warnings: [String] = []
    // Render everything first: an error leaves every file as it was.
    let dnsmasq = try DnsmasqConfig.render(cluster, paths.dnsmasqOptions(extra: options.dnsmasqExtra))
    // dnsmasq runs the hook as root on every DHCP event; it records them in the spool with shell
    // builtins and starts no piswarm (a boot storm would wait on a process per event).
    let hook = try HookScript.render(
      spool: Files.absolute(paths.hookSpool), log: Files.absolute(paths.log), logLimit: DnsmasqLogRotation.limit)
    let exports = try NFSExports.exports(cluster)
    let ganesha = try NFSExports.ganesha(cluster, recoveryRoot: Files.absolute(paths.ganeshaRecovery))
    try checkWithDnsmasq(dnsmasq)
    // Firmware: --firmware as given, or the image's boot folder from the image store, which is
    // published world-readable beside the TFTP root (the store is in the 0700 state directory).
    let publishedRoot = FirmwarePublisher.root(forTFTPRoot: cluster.head.tftpRoot)
    var publish: [(source: String, destination: String, image: String)] = []
    var listings: [String: BootTree.Firmware?] = [:]
    // Pi 4/5 bootloader updates for nodes whose eeprom: settings they do not report yet.
    let eepromRoot = EEPROMPublisher.root(forTFTPRoot: cluster.head.tftpRoot)
    var updates: [String: EEPROMPublisher.Update] = [:]
    let eeprom = { (node: Node) throws(PiSwarmError) -> String? in
      guard !node.eeprom.settings.isEmpty, let family = EEPROMConfig.Family(node.model) else { return nil }
      if let reported = options.eepromReported[node.name], node.eeprom.isReported(by: reported) { return nil }
      let update = try EEPROMPublisher.prepare(node.eeprom, family: family, root: eepromRoot)
      updates[update.folder] = update
      return update.folder
    }
    let tree = try BootTree.plan(cluster, eeprom: eeprom) { node in
      var directory: String
      var source: String
      if let given = options.firmwareDirectory {
        (directory, source) = (given, given)
      } else if let image = cluster.image(of: node) {
        guard BootTreeApplier.isOwnFolderName(image) else { return nil }
        source = paths.firmware(image: image)
        directory = publishedRoot + "/" + image
        if !publish.contains(where: { $0.image == image }) && Files.exists(source) {
          publish.append((source, directory, image))
        }
      } else {
        warnings.append("\(node.name): no image (defaults.image) and no --firmware: its folder gets no firmware")
        return nil
      }
      let firmware: BootTree.Firmware?
      if let known = listings[directory] {
        firmware = known
      } else {
        let names = try? FileManager.default.contentsOfDirectory(atPath: source)
        firmware = names.map { BootTree.Firmware(directory: directory, names: $0) }
        if names == nil {
          warnings.append("no firmware at \(source): node folders get only cmdline.txt and config.txt; import the image first")
        } else if options.firmwareDirectory != nil, let problem = BootTreeApplier.unreadableByOthers(directory) {
          warnings.append("dnsmasq serves files as an unprivileged user, and \(problem): nodes will not get their firmware")
        }
        listings[directory] = firmware
      }
      if let firmware, case let missing = BootFiles.missingFirmware(for: node.model, in: firmware.names), !missing.isEmpty {
        warnings.append(
          "\(node.name) (\(node.model?.rawValue ?? "")): \(source) has no \(missing.joined(separator: ", ")): it will not boot from it; use an image made for this board (Raspberry Pi OS arm64 carries every model's files)"
        )
      }
      return firmware
    }
    for image in Set([cluster.defaults.image].compactMap { $0 } + cluster.currentRoots.values.map(\.image))
    where !BootTreeApplier.isOwnFolderName(image) {
      throw PiSwarmError(
        .invalidInput, "the image name \"\(image)\" is not a plain name", advice: "use the name 'piswarm image ls' shows")
    }
    for (node, reason) in tree.skipped { warnings.append("\(node): not served: \(reason)") }

    var changes: [FileChange] = []
    let dry = options.dryRun
    // Restarts and reloads are owed by a marker file from the change until one succeeds, also
    // across runs. A dry run only notes which markers it would write.
    var marked: Set<String> = []
    func owe(_ marker: String, _ file: String) throws(PiSwarmError) {
      if dry { marked.insert(marker) } else { try AtomicFile.write("\(file)\n", to: marker, mode: 0o600) }
    }
    func isOwed(_ marker: String) -> Bool { marked.contains(marker) || Files.exists(marker) }
    var owed: [NetbootRestart] = []
    if !dry { try Files.makeDirectory(paths.folder, mode: 0o755) }
    func write(_ text: String, _ path: String, mode: mode_t = 0o644) throws(PiSwarmError) -> Bool {
      let existed = Files.exists(path)
      let wrote = dry ? !AtomicFile.holds(text, at: path) : try AtomicFile.write(text, to: path, mode: mode)
      if wrote { changes.append(FileChange(path, existed ? .updated : .created)) }
      return wrote
    }
    _ = try write(hook, paths.hookScript, mode: 0o755)
    if !dry { try DnsmasqLogRotation.rotate(paths.log) }
    let exportsChanged = try write(exports, paths.exports)
    // A kernel NFS server on the head serves the same exports, reloaded when they change (owed
    // across runs when the reload fails). --files-only writes nothing outside the cluster file's
    // paths and the state directory.
    var exportsState = "no kernel NFS server (ganesha.conf in \(paths.folder))"
    // head.nfs_reload: the user runs the NFS server; piswarm writes only its own files (the
    // exports and ganesha.conf in the state directory) and runs the command when they changed.
    let reload = cluster.head.nfsReload
    let kernelExportsFile = reload == nil ? services.kernelExportsFile : nil
    if let kernelExports = kernelExportsFile {
      if options.filesOnly {
        exportsState = "not written (--files-only)"
      } else {
        if try write(exports, kernelExports) { try owe(paths.exportsPending, kernelExports) }
        exportsState = "unchanged"
        if isOwed(paths.exportsPending) {
          if options.defersRestarts {
            owed.append(.exports)
            exportsState = "reload owed"
          } else {
            try restart(.exports, paths: paths, services: services)
            exportsState = "reloaded"
          }
        }
      }
    }
    let ganeshaChanged = try write(ganesha, paths.ganesha)
    let ganeshaMain = kernelExportsFile == nil && reload == nil ? services.ganeshaMainConfig : nil
    if reload != nil {
      if exportsChanged || ganeshaChanged { try owe(paths.nfsReloadPending, paths.ganesha) }
      exportsState = "head.nfs_reload: not needed (the exports are unchanged)"
      if isOwed(paths.nfsReloadPending) {
        if options.filesOnly {
          exportsState = "head.nfs_reload: not run (--files-only)"
        } else if options.defersRestarts {
          owed.append(.nfsReload)
          exportsState = "head.nfs_reload: owed"
        } else {
          try restart(.nfsReload, paths: paths, services: services, head: cluster.head)
          exportsState = "head.nfs_reload: run"
        }
      }
    }
    // A changed configuration owes ganesha a restart, also when this run is --files-only.
    if ganeshaChanged, let ganeshaMain { try owe(paths.ganeshaPending, ganeshaMain) }
    // Without a kernel NFS server, a ganesha service serves the roots: piswarm's file is its
    // configuration when the main file is piswarm's (or absent), or %included from the user's.
    if !options.filesOnly, let main = ganeshaMain {
      let existing = try? String(contentsOfFile: main, encoding: .utf8)
      let include = "%include \"\(Files.absolute(paths.ganesha))\""
      var changed = false
      if existing == nil || existing?.hasPrefix(GaneshaRootExports.header) == true {
        changed = try write(ganesha, main)
      } else if existing?.contains(include) == true {
        changed = ganeshaChanged
      } else {
        warnings.append("\(main) is not piswarm's: add the line \(include) to it so that ganesha serves the node roots")
      }
      if changed { try owe(paths.ganeshaPending, main) }
      if isOwed(paths.ganeshaPending) {
        if let reason = services.unavailableReason {
          exportsState = "ganesha: not restarted: \(reason)"
        } else if options.defersRestarts {
          owed.append(.ganesha)
          exportsState = "ganesha: restart owed"
        } else {
          try restart(.ganesha, paths: paths, services: services)
          exportsState = "ganesha: restarted"
        }
      } else {
        exportsState = "ganesha: unchanged"
      }
    }
    for item in publish {
      if !dry { try Files.makeDirectory(publishedRoot, mode: 0o755) }
      changes += try FirmwarePublisher.publish(from: item.source, to: item.destination, dryRun: dry)
    }
    if options.firmwareDirectory == nil {
      changes += try FirmwarePublisher.prune(
        root: publishedRoot, keep: Set([cluster.defaults.image].compactMap { $0 } + cluster.currentRoots.values.map(\.image)),
        dryRun: dry)
    }
    for folder in updates.keys.sorted() {
      if let update = updates[folder] { changes += try EEPROMPublisher.write(update, dryRun: dry) }
    }
    // Node folders hard-link the published files: a dry run counts the links to files it would
    // have published anew as replaced, as the run replaces them.
    let renewed = dry ? Set(changes.filter { $0.action == .created || $0.action == .updated }.map(\.path)) : []
    changes += try BootTreeApplier.apply(tree, manifest: paths.manifest, dryRun: dry, renewed: renewed)
    changes += EEPROMPublisher.prune(root: eepromRoot, keep: Set(updates.keys), dryRun: dry)
    // piswarm makes the TFTP root 0755 but never loosens the mode of one that exists.
    if let problem = BootTreeApplier.unreadableByOthers(cluster.head.tftpRoot), !dry || Files.exists(cluster.head.tftpRoot) {
      warnings.append("dnsmasq serves files as an unprivileged user, and \(problem): nodes will not get their boot files")
    }
    for stranger in BootTreeApplier.strangers(in: tree) {
      warnings.append("\(stranger) is in the TFTP root: machines without a folder of their own are served from there; remove it")
    }
    let confFolder = URL(fileURLWithPath: cluster.head.dnsmasqConf).deletingLastPathComponent().path
    if !Files.exists(confFolder), !dry { try Files.makeDirectory(confFolder, mode: 0o755) }
    let dnsmasqChanged = try write(dnsmasq, cluster.head.dnsmasqConf)

    // A restart is owed from the change until one succeeds, also across runs: a failed restart
    // or a --files-only run is followed up by the next apply.
    if dnsmasqChanged { try owe(paths.restartPending, cluster.head.dnsmasqConf) }
    var state = "unchanged"
    if isOwed(paths.restartPending) {
      if options.filesOnly {
        state = dnsmasqChanged ? "not restarted (--files-only)" : "unchanged (restart owed since an earlier run)"
      } else if cluster.head.dnsmasqRestart == nil, let reason = services.unavailableReason {
        state = "not restarted: \(reason)"
        warnings.append(
          "dnsmasq's configuration changed but \(reason): restart dnsmasq yourself, or give piswarm the command that does (head.dnsmasq_restart)"
        )
      } else if options.defersRestarts {
        owed.append(.dnsmasq)
        state = "restart owed"
      } else {
        try restart(.dnsmasq, paths: paths, services: services, head: cluster.head)
        state = cluster.head.dnsmasqRestart == nil ? "restarted" : "restarted (head.dnsmasq_restart)"
      }
    }
    return Result(
      changes: changes, dnsmasqConfig: cluster.head.dnsmasqConf, dnsmasqChanged: dnsmasqChanged, dnsmasq: state,
      folders: tree.folders, warnings: warnings, exports: exportsState, owed: owed)
  }

  /// Restarts (or reloads) a service whose files changed, and forgets that it was owed; a
  /// failure keeps it owed, for the next run.
  /// `reload` is the cluster file's `head.nfs_reload`, for `.nfsReload`.
  public static func restart(
    _ service: NetbootRestart, paths: NetbootPaths, services: any ServiceControl = SystemdServices(), head: Head? = nil
  ) throws(PiSwarmError) {
    let reload = head?.nfsReload
    let dnsmasqRestart = head?.dnsmasqRestart
    let marker: String
    do throws(PiSwarmError) {
      switch service {
      case .dnsmasq:
        marker = paths.restartPending
        if let dnsmasqRestart, let conf = head?.dnsmasqConf {
          try services.runReloadCommand(dnsmasqRestart, environment: ["PISWARM_DNSMASQ_CONF": conf])
        } else {
          try services.restart("dnsmasq")
        }
      case .exports:
        marker = paths.exportsPending
        try services.reloadExports()
      case .ganesha:
        marker = paths.ganeshaPending
        try services.restart("nfs-ganesha")
      case .nfsReload:
        marker = paths.nfsReloadPending
        try services.runReloadCommand(
          reload ?? [], environment: ["PISWARM_EXPORTS": paths.exports, "PISWARM_GANESHA_CONF": paths.ganesha])
      }
    } catch {
      var failure = error
      switch service {
      case .dnsmasq:
        if let dnsmasqRestart {
          failure.message =
            "dnsmasq's configuration changed and head.dnsmasq_restart (\(dnsmasqRestart.joined(separator: " ").terminalSafe)) failed: \(error.message)"
          failure.advice =
            "make the command work by hand (it must make dnsmasq read \(head?.dnsmasqConf ?? "head.dnsmasq_conf")); the next 'piswarm netboot apply' or 'piswarm up' runs it again"
        } else {
          failure.message = "dnsmasq's configuration changed and restarting dnsmasq failed: \(error.message)"
          failure.advice =
            "see 'systemctl status dnsmasq' and 'journalctl -u dnsmasq' (is Debian's dnsmasq package installed?); the next 'piswarm netboot apply' or 'piswarm up' tries again"
        }
      case .exports:
        failure.message = "the NFS exports changed and 'exportfs -ra' failed: \(error.message)"
        failure.advice =
          "check \(services.kernelExportsFile ?? "the exports") and 'systemctl status nfs-kernel-server'; the next apply tries again"
      case .ganesha:
        failure.message = "the NFS exports changed and restarting nfs-ganesha failed: \(error.message)"
        failure.advice = "see 'journalctl -u nfs-ganesha'; the next 'piswarm netboot apply' or 'piswarm up' tries again"
      case .nfsReload:
        failure.message =
          "the NFS exports changed and head.nfs_reload (\((reload ?? []).joined(separator: " ").terminalSafe)) failed: \(error.message)"
        failure.advice =
          "make the command work by hand (it must make the NFS server serve \(paths.ganesha) or \(paths.exports)); the next 'piswarm netboot apply' or 'piswarm up' runs it again"
      }
      throw failure
    }
    unlink(marker)
  }
}

extension NetbootApply {
  /// Lets dnsmasq itself check the rendered file's syntax (`dnsmasq --test`), when it is
  /// installed, before anything is written.
  static func checkWithDnsmasq(_ text: String) throws(PiSwarmError) {
    guard let dnsmasq = Command.resolve("dnsmasq") else { return }
    let file = NSTemporaryDirectory() + "/piswarm-dnsmasq-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).conf"
    defer { unlink(file) }
    try AtomicFile.write(text, to: file, mode: 0o600)
    let output = try Command(dnsmasq, ["--test", "--conf-file=\(file)"], timeout: 20).run()
    guard output.status == 0 else {
      throw PiSwarmError(
        .invalidInput, "dnsmasq rejects the configuration piswarm rendered; nothing was written",
        advice: "check the values in the cluster file (and any --dnsmasq-option)",
        cause: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
  }
}
