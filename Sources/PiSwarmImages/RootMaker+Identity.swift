import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A node's identity in its root (hostname, machine-id, keys, fstab, network, Docker), and the
/// host key piswarm makes for it and pins: never read back from the node's root as the pin.
extension RootMaker {
  /// Writes the identity files that differ, a machine-id unless the root has its own, an
  /// ed25519 host key unless it has the one piswarm made; pins that key in STATE/known_hosts.
  func writeIdentity(
    _ identity: NodeIdentity, into root: ConfinedRoot, base: String
  ) throws(PiSwarmError)
    -> WrittenIdentity
  {
    var changed: [String] = []
    for file in identity.files {
      let folderMode: mode_t = file.path.hasPrefix("/root/") ? 0o700 : 0o755
      if try root.write(file.content, to: file.path, mode: mode_t(file.mode), folderMode: folderMode) {
        changed.append(file.path)
      }
    }
    let machineID = try root.read("/etc/machine-id").map { String(decoding: $0, as: UTF8.self) } ?? ""
    let baseMachineID =
      (try? ConfinedRoot(base)).flatMap { try? $0.read("/etc/machine-id") }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    if !NodeIdentity.isMachineID(machineID) || machineID == baseMachineID {
      try root.write(NodeIdentity.machineID(Self.randomMachineID()), to: "/etc/machine-id", mode: 0o444)
      changed.append("/etc/machine-id")
    }
    let (key, made, warning) = try hostKey(node: identity.node, in: root)
    if made { changed += [Self.hostKeyPath, Self.hostKeyPath + ".pub"] }
    guard let key else { return WrittenIdentity(changed: changed, key: nil, warnings: []) }
    if dryRun {
      // The pin in known_hosts is the head's, not the root's: not one of the paths above.
      return WrittenIdentity(changed: changed, key: key, warnings: warning.map { [$0] } ?? [])
    }
    try KnownHosts.replace(
      hosts: [identity.ip.description], with: [NodeIdentity.knownHostsLine(ip: identity.ip, key: key)], in: knownHosts)
    return WrittenIdentity(changed: changed, key: key, warnings: warning.map { [$0] } ?? [])
  }

  static let hostKeyPath = "/etc/ssh/ssh_host_ed25519_key"

  /// The node's pinned host key. piswarm pins only keys it made: with no pin, or with no key
  /// pair in the root (a root made again), it makes a new one and pins it. A key in the root
  /// that is not the pinned one is left alone and reported, never pinned.
  func hostKey(node: String, in root: ConfinedRoot) throws(PiSwarmError) -> (SSHHostKey?, made: Bool, warning: String?) {
    let pin = try pinFile(node)
    let pinned = try pinnedHostKey(node)
    let privateKind = try root.kind(Self.hostKeyPath)
    let publicKind = try root.kind(Self.hostKeyPath + ".pub")
    if let pinned, privateKind != nil || publicKind != nil {
      let inRoot = try root.read(Self.hostKeyPath + ".pub").flatMap {
        try? SSHHostKey(parsing: String(decoding: $0, as: UTF8.self))
      }
      if privateKind == .file, let inRoot, inRoot.sameKey(as: pinned) { return (pinned, false, nil) }
      let found = inRoot.map { "another host key (\($0.fingerprint))" } ?? "a host key piswarm cannot read"
      return (
        pinned, false,
        "its root holds \(found), not the one piswarm made and pinned (\(pinned.fingerprint)): the pin stays, and SSH refuses the node until its root holds that key again; if the node was re-imaged on purpose, remove \(pin) and run again"
      )
    }
    // A dry run makes no key: it would.
    if dryRun { return (nil, true, nil) }
    let (privateKey, publicKey) = try makeHostKey(comment: "root@\(node)")
    try root.write(privateKey, to: Self.hostKeyPath, mode: 0o600)
    try root.write(publicKey.publicKeyLine, to: Self.hostKeyPath + ".pub", mode: 0o644)
    try Files.makePrivateDirectory(hostKeys)
    try AtomicFile.write(publicKey.publicKeyLine, to: pin, mode: 0o600)
    return (publicKey, true, nil)
  }

  /// `STATE/hostkeys/NODE.pub`.
  func pinFile(_ node: String) throws(PiSwarmError) -> String {
    guard !node.isEmpty, !node.hasPrefix("."), !node.contains("/") else {
      throw PiSwarmError(.invalidInput, "\"\(node)\" cannot name a node's host key file")
    }
    return "\(hostKeys)/\(node).pub"
  }

  /// The key piswarm made for `node`, from the state directory; nil when it made none.
  func pinnedHostKey(_ node: String) throws(PiSwarmError) -> SSHHostKey? {
    let path = try pinFile(node)
    guard Files.exists(path) else { return nil }
    do {
      return try SSHHostKey(parsing: String(decoding: try Files.read(path), as: UTF8.self))
    } catch {
      throw PiSwarmError(
        .system, "\(path) holds no host key piswarm made (\(error.message))",
        advice: "remove it: piswarm then makes \(node) a new host key and pins it")
    }
  }

  /// Forgets the host key piswarm made for `node` (its root is gone).
  public func forgetHostKey(_ node: String) {
    if let path = try? pinFile(node) { unlink(path) }
  }

  /// A new ed25519 key pair, made in the state directory: the private key's bytes and the
  /// public key, parsed strictly.
  func makeHostKey(comment: String) throws(PiSwarmError) -> (Data, SSHHostKey) {
    let scratch = "\(stateDirectory)/.hostkey-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try Files.makeDirectory(scratch, mode: 0o700)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", scratch + "/key"]).check()
    let publicKey = try SSHHostKey(parsing: String(decoding: try Files.read(scratch + "/key.pub"), as: UTF8.self))
    return (try Files.read(scratch + "/key"), publicKey)
  }

  /// 32 random lowercase hex digits (128 bits from the system's generator).
  static func randomMachineID() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<16).map { _ in
      let byte = UInt8.random(in: 0...255, using: &generator)
      return (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }.joined()
  }
}
