import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

struct ImageCaptureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "capture",
    abstract: "Copy a node's boot disk (SD card, USB disk), or a netboot node's root, into the image store as a card image.",
    discussion: """
      Over SSH with the node's pinned host key: dd reads the disk the node's root is on,
      up to the end of its last partition; the head hashes the bytes (SHA-256) as they
      arrive and compresses them with zstd (the head's CPU, not the node's). The file
      is then imported like any image, as NAME, and kept in STATE/images/NAME/ as its
      source, so that 'piswarm burn --image NAME' writes it to new cards, each with its
      own identity (host key, machine-id, cloud-init instance; the captured node's
      Docker engine and swarm state are dropped at the new card's first boot).

      The node keeps running: a copy of file systems in use is crash-consistent, like
      a disk after a power cut. --freeze holds them still during the copy (remounted
      read-only where possible, else frozen with fsfreeze; writes on the node wait),
      and releases them however the copy ends.

      A netboot node (boot: netboot) has no disk: its current root generation on the head
      (HEAD.nfs_root/NODE, or NFS_ROOT/.roots/NODE/N after an upgrade) becomes a card
      image, built on the head with sfdisk, mkfs.vfat, mtools and mke2fs -d: an MBR, a
      FAT32 boot partition with the boot files of the image the root was made from (the
      store's copy, not the node's) and a card's cmdline.txt (root=PARTUUID=…-02), and an
      ext4 root partition holding the node's tree, links copied as links. Left out: the
      node's SSH host keys, its machine-id (an empty file, as Raspberry Pi OS ships),
      cloud-init's instance data, Docker's and containerd's state and piswarm's Docker
      loop file; piswarm's netboot-only files (NetworkManager leaving eth0 alone,
      cloud-init off, the journal in memory, the NFS fstab, host name and hosts) are put
      back as the image has them, the card's fstab naming its partitions. The node keeps
      running: NFS cannot be frozen, so the copy is crash-consistent; --freeze tells the
      node to sync first; a node switched off gives a clean copy.

      Examples:
        piswarm image capture node07
        piswarm image capture node04 --name golden    # a netboot node's root
        piswarm image capture node07 --name golden --freeze
        piswarm burn 'node[08-09]' --image golden --device /dev/sdb --device /dev/sdc
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The node whose boot disk to copy.")
  var node: String

  @Option(help: "The image's name (default: NODE-YYYYMMDD-HHMMSS).")
  var name: String?

  @Flag(help: "Remount read-only (else fsfreeze) the disk's file systems during the copy; a netboot node: sync first.")
  var freeze = false

  @Option(help: "Seconds to wait for the SSH connection.")
  var connectTimeout = 10

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func validate() throws {
    if let name, let problem = ImageName.problem(with: name) {
      throw ValidationError("\"\(name)\" cannot name an image: \(problem)")
    }
    guard (1...300).contains(connectTimeout) else { throw ValidationError("--connect-timeout must be 1 to 300 seconds") }
  }

  struct Output: Codable {
    var node: String
    /// A card node: its boot disk as the node described it.
    var probe: CaptureProbe?
    /// A netboot node: the root generation the card image was built from, and its layout.
    var netboot: NetbootCardImage?
    /// Card nodes: held still during the copy; netboot nodes: told to sync before it.
    var frozen: Bool
    var captured: CapturedImage
  }

  func run() throws {
    try reporting {
      let cluster = try global.loadCluster().cluster
      let target = try Targets.resolve(node, in: cluster).get()
      guard target.count == 1, let node = target.first else {
        throw PiSwarmError(.invalidInput, "\(self.node) names \(target.count) nodes", advice: "capture one node at a time")
      }
      let key = cluster.ssh.key.map(Files.expandTilde) ?? global.defaultKey
      let transport = SSHTransport(
        stateDirectory: global.stateDirectory, user: cluster.ssh.user, key: Files.absolute(key), connectTimeout: connectTimeout,
        retries: 1)
      try transport.prepare()
      guard transport.isPinned(node) || node.boot == .netboot else {
        throw PiSwarmError(
          .invalidInput, "\(node.name) has no pinned host key in \(transport.knownHosts)",
          advice:
            "capture nodes piswarm made (burn, netboot roots), or pin its key first with 'piswarm exec \(node.name) --trust-new -- true'"
        )
      }
      Interrupts.install { transport.closeMasters([node]) }
      let imageName = name ?? CaptureProbe.defaultName(node: node.name, stamp: Self.stamp(Date()))
      let output = try global.mutating(commandLine) { (journal) throws(PiSwarmError) -> Output in
        let started = Date()
        do throws(PiSwarmError) {
          let output =
            node.boot == .netboot
            ? try captureRoot(node, nfsRoot: cluster.head.nfsRoot, transport: transport, name: imageName)
            : try capture(node, transport: transport, name: imageName)
          try journal.step(node: node.name, "capture", .succeeded, started: started)
          return output
        } catch {
          try? journal.step(node: node.name, "capture", .failed, started: started, error: error.description)
          throw error
        }
      }
      if json {
        Console.out(try Console.json(output))
      } else {
        let image = output.captured.image
        Console.out(
          "captured \(node.name) as \(image.name): \(image.osRelease), \(ProgressLine.mebibytes(output.captured.rawBytes)) "
            + "(\(ProgressLine.mebibytes(image.sourceSize)) compressed) in \(String(format: "%.0f", output.captured.seconds)) s, "
            + "sha256 \(output.captured.rawSHA256)\n")
      }
    }
  }

  func capture(_ node: Node, transport: SSHTransport, name imageName: String) throws(PiSwarmError) -> Output {
    let state = try freeState(imageName)
    let probed = transport.run(node, RemoteScript.capture.command([("MODE", "probe"), ("DISK", ""), ("FREEZE", "0")]))
    guard probed.outcome == .ok || probed.outcome == .failed else {
      throw PiSwarmError(
        .system, "cannot reach \(node.name): \(probed.message ?? probed.status)", advice: "check 'piswarm status \(node.name)'")
    }
    let probe = try CaptureProbe.parse(probed.stdout, node: node.name).get()
    Console.err("\(node.name): \(probe.disk) (root \(probe.root)), copying \(ProgressLine.mebibytes(probe.bytes))")
    Console.err(probe.warning(node: node.name, freeze: freeze))

    let stream = RemoteScript.capture.command([("MODE", "stream"), ("DISK", probe.disk), ("FREEZE", freeze ? "1" : "0")])
    let captured = try store(
      source: ["ssh"] + transport.invocation(node).arguments(remote: stream), bytes: probe.bytes, node: node, name: imageName,
      state: state)
    return Output(node: node.name, probe: probe, frozen: freeze, captured: captured)
  }

  /// A netboot node: a card image built on the head from its current root generation (the
  /// boot files from the store's copy of the image it was made from), then stored like a
  /// disk capture. --freeze asks the node to sync first (NFS cannot be frozen).
  func captureRoot(
    _ node: Node, nfsRoot: String, transport: SSHTransport, name imageName: String
  ) throws(PiSwarmError) -> Output {
    let state = try freeState(imageName)
    guard let record = try state.roots().first(where: { $0.node == node.name }),
      let generation = RootGenerations.current(try record.generations(state))
    else {
      throw PiSwarmError(
        .notFound, "\(node.name) is a netboot node with no root on the head",
        advice: "make it first ('piswarm root make \(node.name)' or 'piswarm up'); 'piswarm root ls' lists the roots")
    }
    var synced: Bool?
    if freeze {
      synced = transport.isPinned(node) && transport.run(node, ["sync"]).outcome == .ok
    }
    Console.err(NetbootCapture.warning(node: node.name, freeze: freeze, synced: synced))
    let images = ImageStore(stateDirectory: global.stateDirectory)
    let folder = try images.beginImport(imageName, verb: "capture", tag: ".build", mode: 0o700)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    Console.err(
      "\(node.name): building a card image from root generation \(generation.number) (\(generation.path)) and the boot files of \(generation.image)"
    )
    let built = try NetbootCardBuilder(nfsRoot: nfsRoot, stateDirectory: global.stateDirectory).build(generation, into: folder)
    let captured = try store(
      source: ["cat", built.path], bytes: built.layout.totalBytes, node: node, name: imageName, state: state)
    return Output(node: node.name, netboot: built, frozen: synced == true, captured: captured)
  }

  /// The state store, once no image is named `imageName`.
  func freeState(_ imageName: String) throws(PiSwarmError) -> SQLiteStateStore {
    let state = try SQLiteStateStore(stateDirectory: global.stateDirectory)
    if try state.image(named: imageName) != nil {
      throw PiSwarmError(
        .exists, "an image named \(imageName) exists already",
        advice: "remove it first ('piswarm image rm \(imageName)') or capture under another name with --name")
    }
    return state
  }

  /// The raw disk `source` writes, hashed, compressed and imported as `imageName`, then recorded.
  func store(
    source: [String], bytes: UInt64, node: Node, name imageName: String, state: SQLiteStateStore
  ) throws(PiSwarmError) -> CapturedImage {
    let terminal = isatty(2) == 1
    let label = "capturing \(node.name)"
    let capture = ImageCapture(
      store: ImageStore(stateDirectory: global.stateDirectory),
      progress: terminal
        ? { done, total, seconds in
          Console.errRaw(
            "\r"
              + ProgressLine.burn(
                device: label, phase: "copy", fraction: Double(done) / Double(max(total, 1)), bytes: done, seconds: seconds))
        }
        : nil)
    let captured: CapturedImage
    do throws(PiSwarmError) {
      captured = try capture.capture(source: source, bytes: bytes, name: imageName, node: node.name)
      if terminal { Console.errRaw("\n") }
    } catch {
      if terminal { Console.errRaw("\n") }
      throw error
    }
    for note in captured.notes { Console.err("\(node.name): \(note)") }
    let image = captured.image
    do throws(PiSwarmError) {
      try state.addImage(ImageRecord(image))
    } catch {
      try? ImageStore(stateDirectory: global.stateDirectory).remove(image.name)
      throw error
    }
    return captured
  }

  /// `YYYYMMDD-HHMMSS` in UTC.
  static func stamp(_ date: Date) -> String {
    let format = DateFormatter()
    format.locale = Locale(identifier: "en_US_POSIX")
    format.timeZone = TimeZone(identifier: "UTC")
    format.dateFormat = "yyyyMMdd-HHmmss"
    return format.string(from: date)
  }
}
