import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What `piswarm burn` wrote on a card for a node's first boot.
public struct CardIdentityResult: Sendable, Codable {
  public var format: FirstBootFormat
  public var files: [String]
  public var hostKeyFingerprint: String
  public var instanceID: String
}

/// Puts a node's identity on a burned card without mounting it: the FAT boot partition with
/// mtools (no vfat module needed), the ext4 root with debugfs, both at the partition's offset
/// on the device. The host key is made on the head and pinned before the card first boots.
public struct CardIdentityWriter: Sendable {
  public var stateDirectory: String
  public var nfsRoot: String

  public init(stateDirectory: String, nfsRoot: String) {
    self.stateDirectory = stateDirectory
    self.nfsRoot = nfsRoot
  }

  /// The partitions of a Raspberry Pi OS style card: its first FAT and first Linux partition.
  static func layout(
    _ partitions: [MBR.Partition], device: String
  ) throws(PiSwarmError) -> (boot: MBR.Partition, root: MBR.Partition) {
    guard let boot = partitions.first(where: \.isFAT), let root = partitions.first(where: \.isLinux) else {
      throw PiSwarmError(
        .invalidInput, "the image on \(device) has no FAT boot partition and Linux root partition",
        advice: "burn a Raspberry Pi OS style image (MBR, FAT32 boot, ext4 root)")
    }
    return (boot, root)
  }

  /// Whether the card's root partition carries cloud-init.
  public func rootHasCloudInit(device: String, partitions: [MBR.Partition]) throws(PiSwarmError) -> Bool {
    let (_, root) = try Self.layout(partitions, device: device)
    return try rootHas("/usr/bin/cloud-init", device: device, root: root)
  }

  /// Whether `path` exists on the card's root.
  func rootHas(_ path: String, device: String, root: MBR.Partition) throws(PiSwarmError) -> Bool {
    let output = try debugfs(["-R", "stat \(path)"], device: device, root: root)
    return output.status == 0 && output.stdoutText.contains("Inode:")
  }

  /// Writes the node's first-boot files and cmdline.txt, a fresh machine-id when the image has
  /// one (a captured card), and pins the host key it made. `format` nil: chosen by the image.
  public func write(
    node: Node, user: String, authorizedKey: String, address: CardIdentity.Address, timezone: String,
    format requested: FirstBootFormat?, device: String, partitions: [MBR.Partition]
  ) throws(PiSwarmError) -> CardIdentityResult {
    let (boot, root) = try Self.layout(partitions, device: device)
    let format: FirstBootFormat
    if let requested {
      format = requested
    } else {
      format = FirstBootFormat.choose(rootHasCloudInit: try rootHasCloudInit(device: device, partitions: partitions))
    }
    let maker = RootMaker(nfsRoot: nfsRoot, stateDirectory: stateDirectory)
    let (privateKey, publicKey) = try maker.makeHostKey(comment: "root@\(node.name)")
    let identity = CardIdentity(
      node: node.name, user: user, authorizedKey: authorizedKey.trimmingCharacters(in: .whitespacesAndNewlines),
      hostKey: String(decoding: privateKey, as: UTF8.self),
      hostKeyPublic: publicKey.publicKeyLine.trimmingCharacters(in: .newlines),
      address: address, timezone: timezone, mac: node.mac,
      instanceID: "piswarm-\(node.name)-\(RootMaker.randomMachineID().prefix(12))")

    // The files hold the private host key: made in a private folder, removed after.
    let scratch = "\(stateDirectory)/.card-\(getpid())-\(node.name)"
    try Files.makeDirectory(scratch, mode: 0o700)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let fat = "\(device)@@\(boot.offset)"
    let cmdline = try Command("mtype", ["-i", fat, "::cmdline.txt"], environment: Self.mtoolsEnvironment).check().stdoutText
    var files: [(String, String)] = [("cmdline.txt", identity.cmdline(from: cmdline, format: format))]
    switch format {
    case .cloudInit:
      files += [("user-data", identity.userData), ("meta-data", identity.metaData), ("network-config", identity.networkConfig)]
    case .firstrun:
      files += [("firstrun.sh", identity.firstrunScript)]
    }
    // Raspberry Pi OS's sign to turn SSH on at boot.
    files.append(("ssh", ""))
    for (name, content) in files {
      try AtomicFile.write(content, to: "\(scratch)/\(name)", mode: 0o600)
      try Command("mcopy", ["-o", "-i", fat, "\(scratch)/\(name)", "::\(name)"], environment: Self.mtoolsEnvironment).check()
    }

    var written = files.map { "boot:/\($0.0)" }
    let existing = try debugfs(["-R", "cat /etc/machine-id"], device: device, root: root).stdoutText
    if let machineID = CardIdentity.machineID(imageHas: existing, fresh: RootMaker.randomMachineID()) {
      try AtomicFile.write(machineID, to: "\(scratch)/machine-id", mode: 0o444)
      let commands = "rm /etc/machine-id\nwrite \(scratch)/machine-id /etc/machine-id\nsif /etc/machine-id mode 0100444\n"
      try AtomicFile.write(commands, to: "\(scratch)/debugfs.cmd", mode: 0o600)
      let output = try debugfs(["-w", "-f", "\(scratch)/debugfs.cmd"], device: device, root: root)
      guard output.status == 0 else {
        throw PiSwarmError(.system, "cannot write /etc/machine-id on \(device)'s root", cause: output.stderrText)
      }
      written.append("root:/etc/machine-id")
    }
    // A card captured from a node burned with firstrun.sh carries cloud-init turned off and that
    // node's static address: both go.
    if format == .cloudInit {
      for path in CardIdentity.firstrunLeftovers where try rootHas(path, device: device, root: root) {
        let output = try debugfs(["-w", "-R", "rm \(path)"], device: device, root: root)
        guard output.status == 0 else {
          throw PiSwarmError(.system, "cannot remove \(path) on \(device)'s root", cause: output.stderrText)
        }
        written.append("root:-\(path)")
      }
    }
    try Self.flush(device)

    // Pinned before the card ever boots: the first SSH is strict.
    let pin = try maker.pinFile(node.name)
    try Files.makePrivateDirectory(maker.hostKeys)
    try AtomicFile.write(publicKey.publicKeyLine, to: pin, mode: 0o600)
    try KnownHosts.replace(
      hosts: [node.ip.description], with: [NodeIdentity.knownHostsLine(ip: node.ip, key: publicKey)], in: maker.knownHosts)
    return CardIdentityResult(
      format: format, files: written, hostKeyFingerprint: publicKey.fingerprint, instanceID: identity.instanceID)
  }

  static let mtoolsEnvironment = ["MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]

  func debugfs(_ arguments: [String], device: String, root: MBR.Partition) throws(PiSwarmError) -> Command.Output {
    try Command("debugfs", arguments + ["\(device)?offset=\(root.offset)"]).run()
  }

  /// fsync on the device, so that what mtools and debugfs wrote is on the card.
  static func flush(_ device: String) throws(PiSwarmError) {
    let fd = open(device, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw PiSwarmError(.system, "cannot open \(device): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw PiSwarmError(.system, "cannot flush \(device): \(String(cString: strerror(errno)))") }
  }
}
