import Yams

/// The `ssh:` section.
extension ClusterReader {
  mutating func ssh(_ entry: Entry?) -> SSHSettings {
    var settings = SSHSettings(user: SSHSettings.defaultUser, key: nil)
    guard let entry, let fields = mapping(entry.value, "ssh", keys: Self.sshKeys) else { return settings }
    if let user = fields["user"], let name = text(user.value, "ssh.user") {
      if HostName.isUserName(name) {
        settings.user = name
      } else {
        error(user.value, "ssh.user \"\(name)\" is not a user name (lowercase letters, digits, '_' and '-'), e.g. root or pi")
      }
    }
    if let key = fields["key"], let path = text(key.value, "ssh.key") {
      if path.isEmpty {
        error(key.value, "ssh.key is empty; give the private key's path, e.g. ~/.ssh/id_ed25519")
      } else if let bad = path.unicodeScalars.first(where: { TerminalText.needsEscape($0) || $0 == "\"" || $0 == "\\" }) {
        // It goes on one line of an SSH configuration: IdentityFile "PATH".
        error(
          key.value,
          "ssh.key \"\(path.terminalSafe)\" holds \(HeadPath.name(of: bad)): the key's path goes on one line of an SSH configuration; give a plain path, e.g. ~/.ssh/id_ed25519"
        )
      } else {
        settings.key = path
      }
    }
    return settings
  }
}
