import Crypto
import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSystem

/// The built-in portainer stack's files on the head: its compose file (rendered by
/// `Portainer.compose`) and, only while the docker CLI deploys, the admin password, both 0600 in
/// STATE/stacks/portainer (0700). The password is kept in the secrets file, never printed.
struct PortainerFiles {
  let folder: String
  var compose: String { folder + "/compose.yml" }
  var password: String { folder + "/admin-password" }

  static func prepare(stateDirectory: String, passwordFile: String?) throws(PiSwarmError) -> PortainerFiles {
    let store = SecretStore(stateDirectory: stateDirectory)
    let secret: Secret
    if let passwordFile {
      let text = String(decoding: try Files.read(passwordFile), as: UTF8.self)
      let value = text.hasSuffix("\n") ? String(text.dropLast()) : text
      guard value.count >= 12, !value.contains("\n") else {
        throw PiSwarmError(
          .invalidInput, "the admin password in \(passwordFile) must be one line of at least 12 characters (Portainer's rule)",
          advice: "write a longer password into the file")
      }
      secret = Secret(name: Portainer.secretName, value: value)
      try store.set(secret)
    } else if let value = try store.all()[Portainer.secretName] {
      secret = Secret(name: Portainer.secretName, value: value)
    } else {
      var bytes = SystemRandomNumberGenerator()
      let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
      secret = Secret(
        name: Portainer.secretName, value: String((0..<24).map { _ in alphabet[Int(bytes.next() % UInt64(alphabet.count))] }))
      try store.set(secret)
      Console.err(
        "portainer: made an admin password and stored it as the secret \(Portainer.secretName) in \(store.path) (user admin)")
    }
    let files = PortainerFiles(folder: stateDirectory + "/stacks/portainer")
    try Files.makePrivateDirectory(stateDirectory + "/stacks")
    try Files.makePrivateDirectory(files.folder)
    try AtomicFile.write(secret.value, to: files.password, mode: 0o600)
    try AtomicFile.write(
      Portainer.compose(passwordFile: files.password, secretVersion: secretVersion(secret)), to: files.compose, mode: 0o600)
    return files
  }

  /// Names the swarm secret: a new password is a new secret (swarm secrets cannot change).
  /// A salted digest, cut short: it tells nothing useful of the password.
  static func secretVersion(_ secret: Secret) -> String {
    String(SHA256.hex(Array("piswarm portainer admin password\n\(secret.value)".utf8)).prefix(12))
  }

  func removePassword() { try? FileManager.default.removeItem(atPath: password) }

  /// Puts the placement label on the manager the server goes on (the one that has it, else
  /// `on`, else the first manager) and takes it off any other node.
  static func placeServer(_ session: StackSession, on: String?, progress: (String) -> Void) throws(PiSwarmError) {
    let cluster = session.cluster
    if let on, cluster.node(named: on)?.role != .manager {
      throw PiSwarmError(
        .invalidInput, "--on \(on) is not a manager of cluster.yml",
        advice: "name one of: \(cluster.managers.map(\.name).joined(separator: ", "))")
    }
    let members = try session.client.nodes()
    func entry(_ node: Node) -> SwarmNode? {
      guard case .known(let member) = SwarmMember.identity(of: node, claimed: nil, in: members.map(\.member)) else { return nil }
      return members.first { $0.ID == member.id }
    }
    let labelled = members.filter { $0.Spec.Labels?[Portainer.placementLabel] == "true" }
    let labelledNames = cluster.managers.filter { node in labelled.contains { $0.ID == entry(node)?.ID } }.map(\.name)
    guard let chosen = Portainer.serverNode(labelled: labelledNames, chosen: on, managers: cluster.managers.map(\.name)),
      let node = cluster.node(named: chosen), let target = entry(node)
    else {
      throw PiSwarmError(.system, "no manager of cluster.yml is in the swarm's node list", advice: "run 'piswarm up' first")
    }
    if let on, !labelledNames.isEmpty, !labelledNames.contains(on) {
      progress("portainer: the server moves to \(on); its data stays in the volume on \(labelledNames.joined(separator: ", "))")
    }
    for other in labelled where other.ID != target.ID {
      try session.client.updateNode(other.ID) { $0.Labels?[Portainer.placementLabel] = nil }
    }
    try session.client.updateNode(target.ID) { spec in
      var labels = spec.Labels ?? [:]
      labels[Portainer.placementLabel] = "true"
      spec.Labels = labels
    }
  }
}
